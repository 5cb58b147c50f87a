// Relais dashboard: the little behaviour the pages have (they all work without it).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-autosubmit")) {
    field.form.submit();
  }
});
