// The workspace shell's small enhancements: Copy buttons (`data-copy="<selector>"`) copy the text of
// the element they name. Without JavaScript the text stays selectable and the button does nothing.
(() => {
  "use strict";

  async function copy(button) {
    const source = document.querySelector(button.dataset.copy);
    if (!source) return;
    const text = source.textContent.trim();
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) {
      // No clipboard permission (plain http, old browser): select the text so Ctrl-C works.
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy]");
    if (button) copy(button);
  });
})();
