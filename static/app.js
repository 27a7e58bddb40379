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
