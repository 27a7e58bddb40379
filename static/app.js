// Progressive enhancements; every flow works without this file.

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
    if (doc && doc.documentElement) frame.style.height = `${doc.documentElement.scrollHeight + 8}px`;
  };
  frame.addEventListener("load", fit);
  fit();
}
