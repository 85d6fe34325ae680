// Comfort only: every console page works without this script.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  // Copy buttons: shown only where the clipboard can be used.
  for (const button of document.querySelectorAll('button[data-copy]')) {
    if (!navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener('click', async () => {
      const source = document.getElementById(button.dataset.copy);
      const value = source ? (source.value ?? source.textContent) : button.dataset.value;
      await navigator.clipboard.writeText(value.trim());
      const label = button.textContent;
      button.textContent = 'Copied';
      setTimeout(() => (button.textContent = label), 1500);
    });
  }

  // Buttons that open a confirmation <dialog> instead of going to the confirmation page.
  for (const form of document.querySelectorAll('form[data-dialog]')) {
    const dialog = document.getElementById(form.dataset.dialog);
    if (!dialog || typeof dialog.showModal !== 'function') continue;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      dialog.showModal();
      dialog.querySelector('input:not([type=hidden])')?.focus();
    });
    for (const cancel of dialog.querySelectorAll('[data-close]')) {
      cancel.addEventListener('click', (event) => {
        event.preventDefault();
        dialog.close();
      });
    }
  }

  // The authentication method decides which fields apply.
  const method = document.getElementById('token_endpoint_auth_method');
  if (method) {
    const bound = document.getElementById('tls_client_certificate_bound_access_tokens');
    const sync = () => {
      if (method.value === 'tls_client_auth' && bound) bound.checked = true;
    };
    method.addEventListener('change', sync);
  }
});
