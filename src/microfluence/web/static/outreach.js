// The template page's live preview: the unsaved subject and body rendered for the chosen deal
// (POST /templates-preview, nothing stored), shown as text.
"use strict";
(() => {
  const form = document.getElementById("template-form");
  const deal = document.getElementById("preview-deal");
  if (!form || !deal) return;
  const show = (id, text) => { document.getElementById(id).textContent = text || ""; };
  let timer = null;
  const refresh = async () => {
    const data = new FormData(form);
    data.set("deal_id", deal.value);
    const token = data.get("csrf_token");
    try {
      const response = await fetch(form.dataset.previewUrl, {
        method: "POST", body: data, headers: { "X-CSRF-Token": token, Accept: "application/json" },
      });
      const answer = await response.json();
      const error = document.getElementById("preview-error");
      error.hidden = !answer.error;
      error.textContent = answer.error || "";
      if (answer.error) return;
      show("preview-to", answer.to || "–");
      show("preview-subject", answer.subject);
      show("preview-body", answer.body);
      const skip = document.getElementById("preview-skip");
      skip.hidden = !answer.skip;
      skip.textContent = answer.skip ? "Skipped: " + answer.skip : "";
    } catch (_error) { /* the server is away: keep the last preview */ }
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(refresh, 300); };
  form.addEventListener("input", later);
  deal.addEventListener("change", later);
  if (deal.value) later();
})();
