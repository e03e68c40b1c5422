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
  pollJobRows();
  cronHint();
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

const ACTIVE = ["queued", "running", "cancelling"];

// The jobs page: each job still under way polls its status and moves its own bar.
function pollJobRows() {
  for (const row of document.querySelectorAll("tr[data-job-row]")) {
    if (!ACTIVE.includes(row.dataset.status)) continue;
    const status = row.querySelector("[data-job-status]");
    const bar = row.querySelector("[data-job-bar]");
    const percent = row.querySelector("[data-job-percent]");
    const tick = async () => {
      let data;
      try {
        const response = await fetch(row.dataset.jobStatusUrl, { headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error(String(response.status));
        data = await response.json();
      } catch (_error) {
        window.setTimeout(tick, 3000);
        return;
      }
      row.dataset.status = data.status;
      status.textContent = data.status;
      status.className = "status-" + data.status;
      if (data.progress !== null) {
        const value = Math.round(100 * data.progress);
        bar.style.width = value + "%";
        bar.parentElement.setAttribute("aria-valuenow", String(value));
        percent.textContent = value + " %";
      } else {
        percent.textContent = data.progress_done.toLocaleString() + " read";
      }
      if (ACTIVE.includes(data.status)) {
        window.setTimeout(tick, 1000);
      } else if (data.finished_at) {
        row.querySelector("[data-job-ended]").textContent = data.finished_at.replace("T", " ").slice(0, 16);
      }
    };
    window.setTimeout(tick, 500);
  }
}

// The add-schedule form: what the cron typed means (or why it is refused), asked of the server
// (the same reading as the workers') a moment after typing stops.
function cronHint() {
  const input = document.getElementById("schedule-cron");
  const hint = document.getElementById("cron-hint");
  if (!input || !hint) return;
  let timer;
  let asked = 0;
  const ask = async () => {
    const text = input.value.trim();
    if (!text) {
      hint.textContent = "";
      return;
    }
    const mine = ++asked;
    try {
      const url = input.dataset.cronHintUrl + "?" + new URLSearchParams({ cron: text });
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok || mine !== asked) return;
      const data = await response.json();
      if (data.error) {
        hint.textContent = data.error;
        hint.className = "small status-failed";
      } else {
        const words = data.description ? data.description + "; " : "";
        hint.textContent = words + (data.next_run_at ? "next run " + data.next_run_at + " UTC" : "");
        hint.className = "small muted";
      }
    } catch (_error) {
      // no hint: the form still says why when it is sent
    }
  };
  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 300);
  });
  ask();
}

// A range slider mirrored into the number field its data-mirror names, and back (the planner's
// budget).
for (const slider of document.querySelectorAll("input[type=range][data-mirror]")) {
  const field = document.getElementById(slider.dataset.mirror);
  if (!field) continue;
  slider.addEventListener("input", () => { field.value = slider.value; });
  field.addEventListener("input", () => { slider.value = field.value; });
}
