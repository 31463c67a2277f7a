// Kanal staff pages: live refresh of the queue and the ticket, the clarification preview,
// and auto-submitting selects. Loaded as a file: the Content-Security-Policy allows no inline script.
"use strict";

function dirty() {
  return Array.from(document.querySelectorAll("textarea, input[type=text], input:not([type])"))
    .some((el) => el.dataset.touched === "1");
}

function poll(region) {
  const url = region.dataset.poll;
  const every = parseInt(region.dataset.interval || "3000", 10);
  let busy = false;
  setInterval(async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (response.redirected) {  // the session ended: show the sign-in page
        window.location.reload();
        return;
      }
      if (!response.ok) return;
      const html = await response.text();
      if (html === region.dataset.last) return;
      const before = region.querySelector("[data-status]");
      // The fragment is server-rendered and escaped like the page itself.
      region.innerHTML = html;
      region.dataset.last = html;
      const after = region.querySelector("[data-status]");
      if (before && after && before.dataset.status !== after.dataset.status && !dirty()) {
        window.location.reload();  // the actions on offer depend on the status
      }
    } catch (error) {
      // The server is restarting or the network is down: try again at the next tick.
    } finally {
      busy = false;
    }
  }, every);
}

function clarificationPreview(textarea) {
  const boxes = Array.from(document.querySelectorAll("[data-clarify-fact]"));
  let edited = false;
  textarea.addEventListener("input", () => { edited = true; });
  boxes.forEach((box) => box.addEventListener("change", async () => {
    if (edited) return;  // never overwrite what the operator wrote
    const params = new URLSearchParams();
    boxes.filter((b) => b.checked).forEach((b) => params.append("facts", b.value));
    const response = await fetch(textarea.dataset.preview + "?" + params.toString(),
      { credentials: "same-origin" });
    if (response.ok) textarea.value = await response.text();
  }));
}

function rejectionPreview(textarea) {
  // The refusal follows the chosen reason until the operator edits it, like the clarification.
  const reason = textarea.form.querySelector("[data-reject-reason]");
  let edited = false;
  textarea.addEventListener("input", () => { edited = true; });
  reason.addEventListener("change", async () => {
    if (edited) return;
    const params = new URLSearchParams({ resolution: reason.value });
    const response = await fetch(textarea.dataset.preview + "?" + params.toString(),
      { credentials: "same-origin" });
    if (response.ok) textarea.value = await response.text();
  });
}

function cannedPick(select) {
  // A canned reply fills the form's message, which the operator may still edit before it goes.
  const textarea = select.form.querySelector("textarea[name=message]");
  select.addEventListener("change", () => {
    if (!select.value) return;
    textarea.value = select.value;
    textarea.dispatchEvent(new Event("input"));  // the previews no longer overwrite it
  });
}

function opdFollowsCategory(categoryPick) {
  // The verify form's OPD starts as the category's and follows it until the operator picks one.
  const opdPick = categoryPick.form.querySelector("[data-opd-pick]");
  if (!opdPick) return;
  let chosen = false;
  const preview = categoryPick.form.querySelector("[data-forward-preview]");
  async function showMessage() {  // what the reporter is told when it is forwarded
    if (!preview) return;
    const params = new URLSearchParams({ category: categoryPick.value, opd: opdPick.value });
    const response = await fetch(preview.dataset.forwardPreview + "?" + params.toString(),
      { credentials: "same-origin" });
    if (response.ok) preview.textContent = await response.text();
  }
  opdPick.addEventListener("change", () => { chosen = true; showMessage(); });
  categoryPick.addEventListener("change", () => {
    if (!chosen) {
      const option = categoryPick.selectedOptions[0];
      opdPick.value = option ? option.dataset.opd || "" : "";
    }
    showMessage();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-category-pick]").forEach(opdFollowsCategory);
  // The queue's filters fill a phone's first screen: folded there, open on a wide screen.
  if (window.matchMedia("(min-width: 801px)").matches) {
    document.querySelectorAll("[data-open-wide]").forEach((box) => { box.open = true; });
  }
  document.querySelectorAll("[data-reject-text]").forEach(rejectionPreview);
  document.querySelectorAll("[data-canned]").forEach(cannedPick);
  document.querySelectorAll("[data-poll]").forEach((region) => {
    region.dataset.last = "";
    poll(region);
  });
  document.querySelectorAll("[data-clarify-text]").forEach(clarificationPreview);
  document.querySelectorAll("[data-autosubmit]").forEach((select) =>
    select.addEventListener("change", () => select.form.submit()));
  document.querySelectorAll("textarea, input").forEach((el) =>
    el.addEventListener("input", () => { el.dataset.touched = "1"; }));
});
