// Progressive enhancements; every flow works without this file.

// Moments are sent in UTC; say them in the viewer's own time zone, keeping UTC on hover.
const localTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const showLocalTimes = (root) => {
  for (const moment of root.querySelectorAll("time[data-local]")) {
    const at = new Date(moment.dateTime);
    if (!Number.isNaN(at.getTime())) moment.textContent = localTime.format(at);
  }
};
showLocalTimes(document);

// The resend button counts down its cooldown instead of failing when pressed too early.
for (const button of document.querySelectorAll("button[data-cooldown]")) {
  let left = Number(button.dataset.cooldown);
  const seconds = button.parentElement.querySelector(".seconds");
  const cooldown = button.parentElement.querySelector(".cooldown");
  if (left > 0) {
    button.disabled = true;
    const tick = setInterval(() => {
      left -= 1;
      if (seconds) seconds.textContent = String(left);
      if (left <= 0) {
        clearInterval(tick);
        button.disabled = false;
        if (cooldown) cooldown.remove();
      }
    }, 1000);
  }
}

// The code page says when its code has expired, before a submit would find out. The server
// sends the seconds left rather than the time, so that the browser's clock does not matter.
for (const form of document.querySelectorAll("form[data-expires-in]")) {
  setTimeout(() => {
    const notice = document.createElement("p");
    notice.className = "error";
    notice.setAttribute("role", "alert");
    notice.textContent = form.dataset.expiredMessage;
    form.before(notice);
  }, Number(form.dataset.expiresIn) * 1000);
}

// Email previews in the development mailbox grow to their content (the frames run no scripts).
for (const frame of document.querySelectorAll(".message iframe")) {
  const fit = () => {
    const doc = frame.contentDocument;
    if (!doc || !doc.documentElement) return;
    // Shrink first: a frame's document is never shorter than the frame, so it could only grow.
    frame.style.height = "0";
    frame.style.height = `${doc.documentElement.scrollHeight + 8}px`;
  };
  frame.addEventListener("load", fit);
  window.addEventListener("resize", fit);
  fit();
}

// Developer notes (development only): the panel fills itself from the notes page, and opens or
// closes as this browser last left it; at first, open on wide screens and closed on narrow ones.
const devNotes = document.querySelector("[data-dev-notes]");
if (devNotes) {
  const toggle = devNotes.querySelector("[data-dev-notes-toggle]");
  const body = document.getElementById(toggle.getAttribute("aria-controls"));
  const show = (open) => {
    body.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Hide" : "Show";
  };
  let remembered = null;
  try {
    remembered = localStorage.getItem("devNotes");
  } catch {
    // Storage may be off; then the screen's width decides each time.
  }
  show(remembered === null ? window.matchMedia("(min-width: 900px)").matches : remembered === "open");
  toggle.hidden = false;
  toggle.addEventListener("click", () => {
    const open = body.hidden;
    show(open);
    try {
      localStorage.setItem("devNotes", open ? "open" : "closed");
    } catch {
      // Not remembered, as above.
    }
  });
  fetch(devNotes.dataset.devNotes)
    .then((response) => (response.ok ? response.text() : Promise.reject(new Error(`HTTP ${response.status}`))))
    .then((page) => {
      const list = new DOMParser().parseFromString(page, "text/html").querySelector("[data-dev-notes-list]");
      if (!list) return;
      showLocalTimes(list);
      body.append(list);
    })
    .catch(() => {
      // The link to the notes page stays.
    });
}
