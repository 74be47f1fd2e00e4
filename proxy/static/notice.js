// pupilguard in-page notice. Injected by the school's pupilguard proxy into AI sites' pages (with a CSP nonce).
// It asks the proxy, on this page's own origin, whether a message from this browser was redacted or stopped, and
// shows a dismissible banner. DOM built with createElement/textContent only (Trusted Types safe: no innerHTML,
// no eval); styled through CSSOM inside a shadow root so the site's CSS and CSP style-src do not affect it.
(function () {
  "use strict";
  var KEY = "__pupilguardNotice";
  if (window[KEY]) return;
  window[KEY] = true;

  var ENDPOINT = new URL("/__pupilguard/notices", location.origin).href;
  // Poll briskly only while the person is using the page (a prompt is likely on its way), slowly otherwise, so a
  // school full of open AI tabs costs the proxy little.
  var FAST_MS = 1500, IDLE_MS = 30000, ACTIVE_WINDOW_MS = 20000, MAX_BACKOFF_MS = 60000, MAX_SHOWN = 3;
  var nativeFetch = window.fetch.bind(window);
  var host = null, root = null, stack = null, timer = null, failures = 0;
  var activeUntil = Date.now() + ACTIVE_WINDOW_MS;

  function css(el, props) {
    for (var name in props) el.style.setProperty(name, props[name], "important");
    return el;
  }

  function el(tag, props, text) {
    var node = css(document.createElement(tag), props || {});
    if (text) node.textContent = text;
    return node;
  }

  function ensureRoot() {
    if (host && host.isConnected) return;
    host = document.createElement("pupilguard-notice");
    css(host, { all: "initial", position: "fixed", top: "12px", left: "50%", transform: "translateX(-50%)",
                "z-index": "2147483647", width: "min(640px, calc(100vw - 24px))", display: "block" });
    root = host.attachShadow({ mode: "open" });
    stack = el("div", { display: "flex", "flex-direction": "column", gap: "8px" });
    root.appendChild(stack);
    root.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") {
        var card = ev.target && ev.target.closest ? ev.target.closest("[data-notice]") : null;
        if (card) dismiss(card);
      }
    });
    (document.body || document.documentElement).appendChild(host);
  }

  function dismiss(card) {
    if (card.parentNode) card.parentNode.removeChild(card);
    if (stack && !stack.firstChild && host && host.parentNode) host.parentNode.removeChild(host);
  }

  function safeHref(url) {
    try {
      var u = new URL(url);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function show(notice) {
    ensureRoot();
    var blocked = notice.action === "blocked";
    var card = el("div", {
      display: "flex", "align-items": "flex-start", gap: "12px", padding: "12px 14px",
      "border-radius": "8px", "box-shadow": "0 4px 16px rgba(0,0,0,.25)",
      background: blocked ? "#fdecea" : "#fff8e1", color: "#1a1a1a",
      "border-left": "6px solid " + (blocked ? "#b3261e" : "#b26a00"),
      font: "14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "text-align": "left"
    });
    card.setAttribute("data-notice", notice.id || "");
    card.setAttribute("role", blocked ? "alert" : "status");
    card.setAttribute("aria-live", blocked ? "assertive" : "polite");

    var body = el("div", { flex: "1 1 auto", "min-width": "0" });
    body.appendChild(el("strong", { display: "block", "margin-bottom": "2px", "font-weight": "700" },
                        blocked ? "Message not sent" : "Personal data removed"));
    body.appendChild(el("span", { display: "block" }, notice.message));
    if (blocked && notice.approved_tools && notice.approved_tools.length) {
      body.appendChild(el("span", { display: "block", "margin-top": "4px" },
                          "Approved tools: " + notice.approved_tools.join(", ") + "."));
    }
    var href = notice.policy_url ? safeHref(notice.policy_url) : null;
    if (href) {
      var link = el("a", { color: "#0b57d0", "text-decoration": "underline", display: "inline-block",
                           "margin-top": "4px" }, "Read the school's AI policy");
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      body.appendChild(link);
    }
    card.appendChild(body);

    var close = el("button", {
      flex: "0 0 auto", border: "1px solid #555", background: "transparent", color: "#1a1a1a",
      "border-radius": "4px", cursor: "pointer", font: "inherit", padding: "2px 8px"
    }, "Dismiss");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss pupilguard notice");
    close.addEventListener("click", function () { dismiss(card); });
    card.appendChild(close);

    stack.insertBefore(card, stack.firstChild);
    while (stack.childNodes.length > MAX_SHOWN) stack.removeChild(stack.lastChild);
  }

  function nextDelay() {
    if (failures) return Math.min(FAST_MS * Math.pow(2, failures), MAX_BACKOFF_MS);
    return Date.now() < activeUntil ? FAST_MS : IDLE_MS;
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = document.hidden ? null : setTimeout(poll, ms);
  }

  function activity() {
    var wasIdle = Date.now() >= activeUntil;
    activeUntil = Date.now() + ACTIVE_WINDOW_MS;
    if (wasIdle && !failures) schedule(FAST_MS);
  }

  function poll() {
    nativeFetch(ENDPOINT, { credentials: "same-origin", cache: "no-store", headers: { "X-Pupilguard": "1" } })
      .then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.json();
      })
      .then(function (data) {
        (data.notices || []).forEach(show);
        failures = 0;
        schedule(nextDelay());
      })
      .catch(function () {
        failures += 1;
        schedule(nextDelay());
      });
  }

  // Signs that a prompt may be leaving: clicks, Enter, form submits, and the page's own fetch/XHR requests
  // (seen passively through Resource Timing; nothing of the site's is wrapped or patched).
  document.addEventListener("click", activity, true);
  document.addEventListener("submit", activity, true);
  document.addEventListener("keydown", function (ev) { if (ev.key === "Enter") activity(); }, true);
  if (window.PerformanceObserver) {
    try {
      new PerformanceObserver(function (list) {
        list.getEntries().forEach(function (entry) {
          if (/^(fetch|xmlhttprequest|beacon)$/.test(entry.initiatorType) &&
              entry.name.indexOf("/__pupilguard/") < 0) activity();
        });
      }).observe({ type: "resource" });
    } catch (e) { /* older browsers: clicks and keys still count */ }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) clearTimeout(timer);
    else schedule(0);
  });
  schedule(0);
})();
