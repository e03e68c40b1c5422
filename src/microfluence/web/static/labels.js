// The labelling page's keys: f fake, r real, u unsure; ← or Backspace back to the last label.
// The buttons and the back link work without it.
"use strict";

document.addEventListener("keydown", (event) => {
  const card = document.getElementById("label-card");
  const back = document.getElementById("label-back");
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  if (card && !card.dataset.sent) {
    const button = card.querySelector(`button[data-key="${event.key.toLowerCase()}"]`);
    if (button) {
      event.preventDefault();
      card.dataset.sent = "1"; // one label per follower, however fast the keys come
      button.form.requestSubmit(button);
      return;
    }
  }
  if (back && (event.key === "ArrowLeft" || event.key === "Backspace")) {
    event.preventDefault();
    window.location.assign(back.href);
  }
});
