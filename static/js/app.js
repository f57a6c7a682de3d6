// Order Desk: keyboard, focus and picker behaviour. No inline scripts (the pages run under a strict CSP).
"use strict";

(function () {
  const orderForm = () => document.getElementById("order-form");
  let unsent = false;
  // The picker and the Copy buttons need JavaScript; without it the product selects and "Add product
  // line" do the work, and the payment link and message are there to select and copy by hand.
  const showPickers = (root) => root.querySelectorAll("[data-picker], [data-copy]").forEach((el) => { el.hidden = false; });

  // Focus what the server says matters (an error summary, an outcome, the picker), else the first field.
  function placeFocus(root) {
    showPickers(document);  // before focusing: the picker may be the target
    const area = root.querySelector ? (root.id === "order-area" ? root : root.querySelector("#order-area")) : null;
    const wanted = area && area.dataset.focus && document.getElementById(area.dataset.focus);
    const summary = document.getElementById("error-summary");
    const target = wanted || summary || (root === document && document.querySelector("#order-form input:not([type=hidden]):not([tabindex='-1'])"));
    if (target) target.focus();
  }

  document.addEventListener("DOMContentLoaded", () => { showPickers(document); placeFocus(document); totalChanged(); });

  // Words app.js writes come from the page, in its language: data-* attributes the server translated.
  // A count takes the plural form its language needs (data-forms: {lang, category: "{n} …"}).
  const words = (el, name) => (el && el.dataset[name]) || "";
  function counted(el, n) {
    const forms = JSON.parse(words(el, "forms") || "{}");
    const category = new Intl.PluralRules(forms.lang).select(n);
    return (forms[category] || forms.other || forms.many || String(n)).replace("{n}", String(n));
  }
  document.addEventListener("htmx:load", (event) => showPickers(event.detail.elt.parentNode || document));
  // Focus moves once the swap has settled: htmx starts listening on new elements only then, so keys
  // typed into a field focused any earlier (the picker after adding a line) would search for nothing.
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id === "order-area" || event.detail.elt.id === "order-area") {
      if (!orderForm()) unsent = false; // the order went out: nothing left unsent
      document.body.dispatchEvent(new Event("summary-refresh"));
    }
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target.id === "order-area" || event.detail.elt.id === "order-area") {
      placeFocus(document.getElementById("order-area") || document);
    }
  });

  // ---- Product lines: a line change never loses what is typed while it is in flight ----
  // Adding or removing a line swaps only the lines region (never the picker above it). Whatever the
  // operator changed in a line after the request left is carried into the lines that come back; then
  // the summary is asked for afresh, through its own queue, so it shows the form's final state.
  const LINES = "product-lines-region";
  const LINE_FIELD = /^products-(\d+)-(\w+)$/;
  const lineValues = () => Object.fromEntries(Array.from(
    document.querySelectorAll(`#${LINES} [name^='products-']`), (control) => [control.name, control.value]));
  // One line change at a time: while one is on its way, the next (a product picked, a line added or
  // removed) waits its turn, and so does Create order, which must send the lines the operator chose.
  const LINE_ACTION = /^(add|add:.+|pick:.+|remove:\d+)$/;
  const waiting = [];
  let linesBusy = false;
  function lineAction(value) {
    if (linesBusy) { waiting.push(value); return; }
    if (value === "submit") {
      const button = document.getElementById("submit-order");
      if (orderForm() && button && !button.disabled) orderForm().requestSubmit(button);
      return;
    }
    const button = document.getElementById("line-action");  // outside the swapped region: always there
    button.value = value;
    button.click();
  }
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("#order-form button[type=submit]");
    if (!button || !linesBusy) return;
    const line = button.name === "action" && LINE_ACTION.test(button.value);
    if (!line && button.id !== "submit-order") return;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (button.classList.contains("picker-option")) pickerPicked();
    waiting.push(line ? button.value : "submit");
  }, true);
  document.addEventListener("htmx:beforeRequest", (event) => {
    const trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    const submitter = trigger && trigger.submitter;
    if (event.detail.elt.id !== "order-form" || !submitter || submitter.name !== "action") return;
    if (!LINE_ACTION.test(submitter.value)) return;
    linesBusy = true;
    event.detail.xhr.lines = { sent: lineValues(), action: submitter.value };
    if (submitter.classList.contains("picker-option")) pickerPicked();
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (!event.detail.xhr.lines) return;
    linesBusy = false;
    if (waiting.length) lineAction(waiting.shift());
  });
  document.addEventListener("htmx:beforeSwap", (event) => {
    const lines = event.detail.xhr.lines;
    if (event.detail.target.id !== LINES || !lines) return;
    const now = lineValues();
    lines.edits = Object.keys(now).filter((name) => now[name] !== (lines.sent[name] ?? "")).map((name) => [name, now[name]]);
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const lines = event.detail.xhr.lines;
    if (event.detail.target.id !== LINES) return;
    const removed = /^remove:(\d+)$/.exec((lines && lines.action) || "");
    for (const [name, value] of (lines && lines.edits) || []) {
      let [, index, part] = LINE_FIELD.exec(name) || [];
      if (index === undefined) continue;
      index = Number(index);
      if (removed && index === Number(removed[1])) continue;  // its line is gone
      if (removed && index > Number(removed[1])) index -= 1;  // the lines below moved up one
      const control = document.querySelector(`#${LINES} [name='products-${index}-${part}']`);
      if (control) control.value = value;
    }
    showPickers(document);
    deliveryCheck();
    document.body.dispatchEvent(new Event("summary-refresh"));
    // Focus goes where the region says (the new line, or the picker), but only when the swap took it
    // away (the button pressed was in the region): keys are then typed where the operator expects.
    const region = document.getElementById(LINES);
    const wanted = region && region.dataset.focus && document.getElementById(region.dataset.focus);
    const active = document.activeElement;
    if (wanted && (!active || active === document.body || !active.isConnected)) wanted.focus();
  });

  // The picker's search text is not part of the order: typing it (input) or pressing Enter in it
  // (change) must not refresh the summary, whose triggers listen on the body.
  for (const type of ["input", "change"]) {
    document.getElementById("main")?.addEventListener(type, (event) => {
      if (event.target.id === "product-search") event.stopPropagation();
    });
  }

  // Progress: the button that sent the form says it is busy (Pico draws a spinner for aria-busy),
  // so "Refresh lists" or "Add product line" do not make "Create order" claim to be sending.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    if (event.detail.elt.id === "order-form" && trigger && trigger.submitter) trigger.submitter.setAttribute("aria-busy", "true");
  });
  // Only the form's own request ends its busy state: the summary or a phone reading finishing
  // meanwhile must not make a button that is still sending look idle.
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt.id !== "order-form") return;
    document.querySelectorAll("#order-form [aria-busy='true']").forEach((button) => button.removeAttribute("aria-busy"));
  });

  // Unsent changes: warn before leaving, but not after the form was sent. A form htmx sends stays
  // unsent until its answer replaces it (errors or a refusal bring it back, still unsent); a form the
  // browser itself submits (htmx missing) leaves the page on purpose.
  document.addEventListener("input", (event) => { if (event.target.closest("#order-form") && event.target.name !== "q") unsent = true; });
  document.addEventListener("submit", (event) => {
    const submitter = event.submitter;
    if (event.target.id === "order-form" && !event.defaultPrevented && (!submitter || !submitter.name)) unsent = false;
  });
  window.addEventListener("beforeunload", (event) => { if (unsent && orderForm()) { event.preventDefault(); event.returnValue = ""; } });

  document.addEventListener("keydown", (event) => {
    const form = orderForm();
    if (!form || !form.contains(event.target)) return;
    // Ctrl/Cmd+Enter sends the order from anywhere in the form.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      lineAction("submit");
      return;
    }
    if (event.target.id === "product-search") return pickerKeys(event);
    // Enter in a one-line field must not send an order by accident.
    if (event.key === "Enter" && event.target.matches("input:not([type=submit]):not([type=checkbox])")) event.preventDefault();
  });

  // Error summary links: focus the field and bring its label into view with it (a plain fragment link
  // scrolls the field to the top edge, hiding its label), opening a folded section that holds it.
  document.addEventListener("click", (event) => {
    const link = event.target.closest(".error-summary a[href^='#'], .outcome-rejected a[href^='#']");
    const field = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!field) return;
    event.preventDefault();
    const folded = field.closest("details:not([open])");
    if (folded) folded.open = true;
    const label = document.querySelector(`label[for="${CSS.escape(field.id)}"]`);
    (label || field).scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
  });

  // The summary is re-rendered whole, so its total cannot announce itself: a status region that is on
  // the page from the start says the new total, once per change.
  let lastTotal = null;
  function totalChanged() {
    const status = document.getElementById("summary-status");
    if (!status) return false;
    const cell = document.getElementById("summary-total");
    const label = cell && cell.closest("tr").querySelector("th");
    const empty = document.querySelector("#summary p.muted");
    // No template literal inside another: the minifier that serves this file reads them one level deep.
    const named = label ? `${label.textContent.trim()}: ` : "";
    const total = cell ? named + cell.textContent.trim() : (empty ? empty.textContent.trim() : "");
    if (total === lastTotal) return false;
    const first = lastTotal === null;
    lastTotal = total;
    if (!first) status.textContent = total;  // the total the page opened with is not news
    return true;
  }
  document.addEventListener("htmx:afterSwap", (event) => { if (event.detail.target.id === "summary") totalChanged(); });
  document.addEventListener("htmx:oobAfterSwap", (event) => { if (event.detail.target.id === "summary") totalChanged(); });

  // The product picker: arrows move through results, Enter adds, Escape closes.
  function pickerKeys(event) {
    const search = event.target;
    const options = Array.from(document.querySelectorAll("#product-results .picker-option"));
    const current = options.findIndex((o) => o.getAttribute("aria-selected") === "true");
    const select = (i) => {
      options.forEach((o, j) => o.setAttribute("aria-selected", String(i === j)));
      if (options[i]) { search.setAttribute("aria-activedescendant", options[i].id); options[i].scrollIntoView({ block: "nearest" }); }
    };
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!options.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      select(current < 0 ? (step > 0 ? 0 : options.length - 1) : (current + step + options.length) % options.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      // A product highlighted in a list that answers this text is that product; otherwise the first
      // match for the text as typed, found by the server, whether or not its list has come yet.
      const chosen = resultsFor === search.value && options[current];
      const value = chosen ? chosen.value : (search.value.trim() ? `pick:${search.value}` : "");
      if (!value) return;
      pickerPicked();
      lineAction(value);
    } else if (event.key === "Escape") {
      event.preventDefault();
      closePicker(search);
    }
  }

  function closePicker(search) {
    document.getElementById("product-results").replaceChildren();
    search.setAttribute("aria-expanded", "false");
    search.removeAttribute("aria-activedescendant");
    resultsFor = null;
  }

  // A product was picked (its request has left, with the choice in it): the picker is emptied at once,
  // in the same task as the key or click, so whatever is typed next is a new search, never lost.
  function pickerPicked() {
    const search = document.getElementById("product-search");
    if (!search) return;
    search.value = "";
    closePicker(search);
    resultsFor = "";
  }

  // The results belong to the text they were found for: an answer for older text is dropped (a newer
  // one is on its way), and arrows and Enter act on a list only while it answers the text in the box.
  let resultsFor = null;
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target.id !== "product-results") return;
    const search = document.getElementById("product-search");
    const asked = event.detail.requestConfig.parameters.q ?? "";
    if (!search || asked !== search.value) event.detail.shouldSwap = false;
    else resultsFor = asked;
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id !== "product-results") return;
    const search = document.getElementById("product-search");
    const options = event.detail.target.querySelectorAll(".picker-option");
    search.setAttribute("aria-expanded", String(options.length > 0));
    search.removeAttribute("aria-activedescendant");
  });

  // Copy buttons: a payment link or a message to the customer (or a table's all) onto the clipboard. Where the
  // browser refuses (no clipboard permission), the text is selected for Ctrl+C instead.
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-copy]");
    const source = button && document.getElementById(button.dataset.copy);
    if (!source) return;
    const text = "value" in source ? source.value : source.getAttribute("href") || source.textContent;
    const place = button.closest(".copy-actions, .invoice");  // the status beside it, else the invoice's
    const status = place && place.querySelector(".copy-status");
    try {
      await navigator.clipboard.writeText(text);
      if (status) status.textContent = words(button, "copied");
    } catch (error) {
      if (source.select) source.select(); else window.getSelection().selectAllChildren(source);
      if (status) status.textContent = words(button, "selected");
    }
  });

  // ---- The order form in one screen: folded sections, the send bar, the busy state ----

  // A folded section says what it holds while closed: its count follows what the operator types.
  function foldState(fold) {
    const state = fold.querySelector(".fold-state");
    if (!state) return;
    const folds = fold.closest(".folds");
    const same = fold.querySelector("input[name=billing_same_as_shipping]");
    if (same && same.checked) { state.textContent = words(folds, "same"); return; }
    const controls = Array.from(fold.querySelectorAll("input[name], select[name], textarea[name]"))
      .filter((c) => c.type !== "hidden" && c.type !== "submit" && (c.type === "checkbox" ? c.checked : c.value.trim() !== ""));
    state.textContent = controls.length ? `— ${counted(folds, controls.length)}` : words(folds, "none");
  }
  for (const type of ["input", "change"]) {
    document.addEventListener(type, (event) => {
      const fold = event.target.closest && event.target.closest("details.fold");
      if (fold) foldState(fold);
    });
  }

  // A delivered product (good_type physical) needs an address and a city: shipping opens by itself
  // and marks them required as soon as one is chosen, before the server would refuse the order.
  function deliveryCheck() {
    const fold = document.getElementById("section-shipping");
    if (!fold) return;
    const delivered = new Set((fold.dataset.delivered || "").split(" ").filter(Boolean));
    const chosen = Array.from(document.querySelectorAll("#product-lines [name$='-good_name']")).map((s) => s.value);
    const needed = chosen.some((name) => delivered.has(name));
    const was = fold.hasAttribute("data-needed");
    fold.toggleAttribute("data-needed", needed);
    fold.querySelectorAll(".delivery input").forEach((input) => { input.required = needed; });
    if (needed && !was) fold.open = true;
  }
  document.addEventListener("change", (event) => { if (event.target.closest && event.target.closest("#product-lines")) deliveryCheck(); });

  // The send bar repeats the summary's product count and total.
  function barFigures() {
    const count = document.getElementById("bar-count");
    const total = document.getElementById("bar-total");
    if (!count || !total) return;
    const rows = document.querySelectorAll("#summary .summary-lines tbody tr").length;
    const cell = document.getElementById("summary-total");
    count.textContent = counted(count, rows);
    total.textContent = rows ? (cell ? cell.textContent.trim() : words(total, "unknown")) : "—";
  }
  document.addEventListener("htmx:afterSwap", (event) => { if (event.detail.target.id === "summary") barFigures(); });
  document.addEventListener("htmx:oobAfterSwap", (event) => { if (event.detail.target.id === "summary") barFigures(); });

  // While an order is sending: the form is read-only and a line at the top of the viewport counts the
  // seconds, warning past 5 s that JustClick is slow. Only Create order (a submitter without a name)
  // starts it: line actions and "Refresh lists" are not orders.
  const SLOW_AFTER = 5;
  let ticking = null;
  function busy(on) {
    const form = orderForm();
    const fields = document.getElementById("order-fields");
    const status = document.getElementById("send-status");
    clearInterval(ticking);
    if (form) form.toggleAttribute("aria-busy", on);
    if (form && on) form.setAttribute("aria-busy", "true");
    if (fields) fields.disabled = on;
    if (!status) return;
    status.hidden = !on;
    if (!on) { status.replaceChildren(); return; }
    const started = Date.now();
    const sending = words(status, "sending");
    const slowly = words(status, "slow");
    const line = document.createElement("span");
    const slow = document.createElement("span");
    slow.className = "slow";
    status.replaceChildren(line, slow);
    const tick = () => {
      const seconds = Math.floor((Date.now() - started) / 1000);
      line.textContent = sending.replace("{n}", String(seconds));
      slow.textContent = seconds >= SLOW_AFTER ? slowly : "";
    };
    tick();
    ticking = setInterval(tick, 1000);
  }
  document.addEventListener("htmx:beforeRequest", (event) => {
    const trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    if (event.detail.elt.id === "order-form" && trigger && trigger.submitter && !trigger.submitter.name) busy(true);
  });
  // The answer usually replaces the form, which then no longer reaches the document with its
  // afterRequest: the swap about to happen ends the busy state too.
  document.addEventListener("htmx:beforeSwap", (event) => { if (event.detail.target.id === "order-area") busy(false); });
  document.addEventListener("htmx:afterRequest", (event) => { if (event.detail.elt.id === "order-form") busy(false); });
  // ---- end of the one-screen form ----
})();
