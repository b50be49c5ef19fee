// The few behaviours the admin forms need; everything else is plain HTML and htmx.
function leadhubUnion(select) {
  document.querySelectorAll('[data-variant-of="' + select.name + '"]').forEach(function (div) {
    div.hidden = div.dataset.variant !== select.value;
  });
}
function leadhubAddRow(bodyId) {
  var body = document.getElementById(bodyId);
  var template = body.querySelector('[data-template]');
  var row = template.cloneNode(true);
  row.removeAttribute('data-template');
  row.hidden = false;
  row.querySelectorAll('input, select').forEach(function (el) { el.disabled = false; el.value = el.tagName === 'SELECT' ? el.options[0].value : ''; });
  body.insertBefore(row, template);
  row.querySelector('input').focus();
}
function leadhubRemove(button) {
  var row = button.closest('tr');
  var form = row.closest('form');
  row.remove();
  if (form) { form.dispatchEvent(new Event('change', { bubbles: true })); }
}
function leadhubMove(button, step) {
  var row = button.closest('tr');
  var other = step < 0 ? row.previousElementSibling : row.nextElementSibling;
  if (!other || other.hasAttribute('data-template')) { return; }
  if (step < 0) { row.parentNode.insertBefore(row, other); } else { row.parentNode.insertBefore(other, row); }
  row.closest('form').dispatchEvent(new Event('change', { bubbles: true }));
}
