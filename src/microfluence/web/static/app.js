// microfluence pages: progressive enhancement only; every form also works without JavaScript.
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  // Selects that submit their form on change (workspace switcher, role, page size).
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    for (const select of form.querySelectorAll("select")) {
      select.addEventListener("change", () => form.requestSubmit());
    }
  }
  // Ask before destructive posts (remove a member, revoke a key).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  // Copy a shown-once secret.
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = document.querySelector(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = "Copied";
      } catch (_error) {
        window.getSelection().selectAllChildren(source);
      }
    });
  }
  // The follower-sample account field matters only for that kind.
  const kind = document.getElementById("import-kind");
  if (kind) {
    const account = document.querySelector("[data-kind='followers']");
    const mapping = document.querySelector("[data-kind='table']");
    const sync = () => {
      account.hidden = kind.value !== "followers";
      if (mapping) mapping.hidden = !["creators", "posts"].includes(kind.value);
    };
    kind.addEventListener("change", sync);
    sync();
  }
  drawCharts();
  pollImport();
});

// Charts come as <div data-plotly-figure="{json}">: the pages' Content-Security-Policy runs no
// inline script, so this file draws them.
function drawCharts() {
  if (!window.Plotly) return;
  for (const element of document.querySelectorAll("[data-plotly-figure]")) {
    const figure = JSON.parse(element.dataset.plotlyFigure);
    const config = JSON.parse(element.dataset.plotlyConfig || "{}");
    window.Plotly.newPlot(element, figure.data, figure.layout, config);
  }
}

// Charts are drawn as the page streams in, before the grid has its final width: fit them once
// the page is laid out (plotly's own "responsive" handles later window resizes).
window.addEventListener("load", () => {
  if (!window.Plotly) return;
  for (const plot of document.querySelectorAll(".js-plotly-plot")) window.Plotly.Plots.resize(plot);
});

// The import job page: poll its status until it ends, then reload to show the outcome.
function pollImport() {
  const job = document.getElementById("job");
  if (!job || !["queued", "running", "cancelling"].includes(job.dataset.status)) return;
  const bar = document.getElementById("job-bar");
  const status = document.getElementById("job-status");
  const text = document.getElementById("job-progress-text");
  const tick = async () => {
    let data;
    try {
      const response = await fetch(job.dataset.jobStatusUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      data = await response.json();
    } catch (_error) {
      window.setTimeout(tick, 2000);
      return;
    }
    status.textContent = data.status;
    status.className = "status-" + data.status;
    if (data.progress !== null) {
      const percent = Math.round(100 * data.progress);
      bar.style.width = percent + "%";
      bar.parentElement.setAttribute("aria-valuenow", String(percent));
      text.textContent = percent + " %";
    } else {
      text.textContent = data.progress_done.toLocaleString() + " read";
    }
    if (["succeeded", "failed", "cancelled"].includes(data.status)) {
      window.location.reload();
    } else {
      window.setTimeout(tick, 700);
    }
  };
  window.setTimeout(tick, 300);
}
