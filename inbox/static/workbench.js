// The operator's workbench: when the live queue list is refreshed (kanal.js polls it), every
// count on the page (views, filters) is rewritten from the counts the fresh list carries.
"use strict";

function writeCounts(source) {
  let counts;
  try {
    counts = JSON.parse(source.dataset.counts || "{}");
  } catch (error) {
    return;  // a half-written fragment: the next refresh brings a whole one
  }
  document.querySelectorAll("[data-count-key]").forEach((el) => {
    const n = counts[el.dataset.countKey] || 0;
    if (el.tagName === "OPTION") {
      el.textContent = el.dataset.label + " (" + n + ")";
    } else {
      el.textContent = String(n);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const queue = document.getElementById("queue");
  if (!queue) return;
  new MutationObserver(() => {
    const source = document.getElementById("queue-counts");
    if (source) writeCounts(source);
  }).observe(queue, { childList: true });
});

// Keyboard: on the queue j/k move, o (or Enter) opens, / searches; on a ticket v verify,
// f forward, c clarify, r reply, e resolve open that action ready to send, Escape goes back to
// the queue; ? shows the keys everywhere. Keys never fire while typing in a field.
const ACTION_KEYS = { v: "verify", f: "forward", c: "request_clarification", r: "reply", e: "resolve" };

function typing(target) {
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function queueRows() {
  return Array.from(document.querySelectorAll("#queue tr.ticket-row"));
}

function select(rows, index, scroll = false) {
  rows.forEach((row) => row.removeAttribute("aria-selected"));
  const row = rows[Math.max(0, Math.min(index, rows.length - 1))];
  if (!row) return;
  row.setAttribute("aria-selected", "true");
  if (scroll) row.scrollIntoView({ block: "nearest" });
}

function moveSelection(step) {
  const rows = queueRows();
  const current = rows.findIndex((row) => row.hasAttribute("aria-selected"));
  select(rows, current < 0 ? 0 : current + step, true);
}

function openSelected() {
  const row = document.querySelector("#queue tr.ticket-row[aria-selected]") || queueRows()[0];
  const link = row && row.querySelector("a[href^='/tickets/']");
  if (link) window.location.assign(link.href);
}

function openAction(name) {
  const box = document.getElementById("act-" + name);
  if (!box) return false;
  box.open = true;
  // A text to write gets the cursor; a form already filled in gets its send button.
  const target = box.querySelector("textarea") || box.querySelector("button[type=submit]");
  if (target) target.focus();
  return true;
}

function toggleHelp() {
  const help = document.getElementById("keys-help");
  if (help) help.hidden = !help.hidden;
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const onQueue = Boolean(document.getElementById("queue"));
  if (event.key === "Escape") {
    if (typing(event.target)) { event.target.blur(); return; }
    const help = document.getElementById("keys-help");
    if (help && !help.hidden) { help.hidden = true; return; }
    if (!onQueue && document.getElementById("actions")) window.location.assign("/");
    return;
  }
  if (typing(event.target)) return;
  let handled = true;
  if (event.key === "?") toggleHelp();
  else if (onQueue && event.key === "j") moveSelection(1);
  else if (onQueue && event.key === "k") moveSelection(-1);
  else if (onQueue && (event.key === "o" || event.key === "Enter")) {
    handled = event.key === "o" || Boolean(document.querySelector("#queue tr[aria-selected]"));
    if (handled) openSelected();
  } else if (event.key === "/") {
    const search = document.querySelector("#filters input[name=q]");
    if (search) search.focus(); else handled = false;
  } else if (!onQueue && ACTION_KEYS[event.key]) handled = openAction(ACTION_KEYS[event.key]);
  else handled = false;
  if (handled) event.preventDefault();
});

document.addEventListener("DOMContentLoaded", () => {
  document.documentElement.dataset.keys = "ready";  // the shortcuts answer from now on
  const rows = queueRows();
  if (rows.length) select(rows, 0);
  const queue = document.getElementById("queue");
  if (!queue) return;
  new MutationObserver(() => {
    // The refreshed list keeps the selection on the same report when it is still listed.
    const chosen = queue.dataset.chosen;
    const fresh = queueRows();
    const index = fresh.findIndex((row) => row.dataset.number === chosen);
    select(fresh, index < 0 ? 0 : index);
  }).observe(queue, { childList: true });
});

document.addEventListener("keyup", () => {
  const queue = document.getElementById("queue");
  const row = document.querySelector("#queue tr.ticket-row[aria-selected]");
  if (queue && row) queue.dataset.chosen = row.dataset.number;
});

// The bulk form's ticks survive the live refresh of the list they sit in.
document.addEventListener("DOMContentLoaded", () => {
  const queue = document.getElementById("queue");
  if (!queue || !document.getElementById("bulk")) return;
  const ticked = new Set();
  queue.addEventListener("change", (event) => {
    const box = event.target;
    if (box.name !== "numbers") return;
    if (box.checked) ticked.add(box.value); else ticked.delete(box.value);
  });
  new MutationObserver(() => {
    queue.querySelectorAll("input[name=numbers]").forEach((box) => {
      box.checked = ticked.has(box.value);
    });
  }).observe(queue, { childList: true });
});
