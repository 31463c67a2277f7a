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
