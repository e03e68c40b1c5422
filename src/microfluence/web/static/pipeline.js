// The pipeline board: move a card by dragging it to a column, or by focusing it and pressing
// → / ← (the next or previous stage, in the board's column order). Both post the card's own
// stage form — the same form a visitor without JavaScript uses with its menu and button.
"use strict";

function moveCard(card, stage) {
  const form = card.querySelector("form.move-one");
  if (!form || !stage || stage === card.dataset.stage) return;
  form.querySelector("select[name=stage]").value = stage;
  form.requestSubmit();
}

document.addEventListener("DOMContentLoaded", () => {
  const board = document.getElementById("board");
  if (!board) return;
  const columns = [...board.querySelectorAll(".stage-column")];
  const order = columns.map((column) => column.dataset.stage);

  for (const card of board.querySelectorAll(".deal-card[draggable=true]")) {
    card.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/plain", card.dataset.deal);
      event.dataTransfer.effectAllowed = "move";
      card.classList.add("dragging");
    });
    card.addEventListener("dragend", () => card.classList.remove("dragging"));
    card.addEventListener("keydown", (event) => {
      if (event.target !== card || event.altKey || event.ctrlKey || event.metaKey) return;
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = order[order.indexOf(card.dataset.stage) + step];
      if (next) {
        event.preventDefault();
        moveCard(card, next);
      }
    });
  }
  for (const column of columns) {
    column.addEventListener("dragover", (event) => {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      column.classList.add("drop-target");
    });
    column.addEventListener("dragleave", () => column.classList.remove("drop-target"));
    column.addEventListener("drop", (event) => {
      event.preventDefault();
      column.classList.remove("drop-target");
      const id = event.dataTransfer.getData("text/plain");
      const card = board.querySelector(`.deal-card[data-deal="${CSS.escape(id)}"]`);
      if (card) moveCard(card, column.dataset.stage);
    });
  }
  // Back from a move: keyboard users keep their place on the card they moved.
  const moved = window.location.hash && document.querySelector(window.location.hash);
  if (moved && moved.classList.contains("deal-card")) moved.focus();
});
