// The portal's pages in the browser: NCALayer through ncalayer-js-client (the public npm package,
// vendored as ncalayer-client.js), uploads with the 30 MB check, the head's decision.
(function () {
  'use strict';
  const P = window.PORTAL;
  const MAX_TOTAL = 30 * 1024 * 1024;

  function say(message, kind) {
    const el = document.getElementById('ncalayer-status');
    el.textContent = message;
    el.className = 'notice ' + (kind || 'error');
    el.hidden = false;
  }

  async function layer() {
    const client = new NCALayerClient(P.ncalayerUrl, false);
    try {
      await client.connect();
    } catch (error) {
      throw new Error(P.texts.ncalayer_unreachable + ' (' + P.ncalayerUrl + ')');
    }
    return client;
  }

  function closeLayer(client) {
    try { client.wsConnection.close(); } catch (e) { /* already closed */ }
  }

  async function signXml(keyType, xml) {
    const client = await layer();
    try {
      return await client.signXml(NCALayerClient.fileStorageType, xml, keyType, '', '');
    } finally {
      closeLayer(client);
    }
  }

  async function keyInfo() {
    const client = await layer();
    try {
      return await client.getKeyInfo(NCALayerClient.fileStorageType);
    } finally {
      closeLayer(client);
    }
  }

  // every POST of the page carries the session's CSRF token (the server refuses it otherwise)
  async function json(url, options) {
    if (options && options.method && options.method !== 'GET') {
      options.headers = Object.assign({'X-CSRF-Token': P.csrf}, options.headers || {});
    }
    const response = await fetch(url, options);
    if (!(response.headers.get('Content-Type') || '').includes('json')) {
      throw new Error(response.status + ' ' + response.statusText);
    }
    const body = await response.json();
    if (!response.ok) { throw new Error(body.error || response.statusText); }
    return body;
  }

  async function readCertificate(form) {
    const info = await keyInfo();
    const cert = await json('/api/certificate', {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({pem: info.pem}),
    });
    for (const name of ['iin_bin', 'holder', 'organisation']) {
      const input = form.elements[name];
      if (input && !input.dataset.typed) { input.value = cert[name] || ''; }
    }
    say(P.texts.key_read + ': ' + cert.holder + ' (' + cert.iin_bin + ')', 'ok');
  }

  async function proveAndSubmit(form) {
    const challenge = await json('/api/challenge');
    say(P.texts.signing, 'info');
    form.elements.signed_challenge.value = await signXml('AUTHENTICATION', challenge.xml);
    form.submit();
  }

  async function signAndSend(form) {
    const response = await fetch('/wizard/document');
    const xml = await response.text();
    if (!response.ok) { throw new Error(xml); }
    say(P.texts.signing, 'info');
    form.elements.signed_xml.value = await signXml('SIGNATURE', xml);
    form.submit();
  }

  async function upload(form) {
    const rows = Array.from(form.querySelectorAll('tr.upload-row'));
    let total = Number(form.dataset.uploaded || '0');
    const chosen = [];
    for (const row of rows) {
      const name = row.querySelector('input[name=document]').value.trim();
      const file = row.querySelector('input[type=file]').files[0];
      if (file && name) { chosen.push({name, file}); total += file.size; }
    }
    if (total > MAX_TOTAL) { throw new Error(P.texts.too_large + ': ' + total + ' > ' + MAX_TOTAL); }
    for (const {name, file} of chosen) {
      const url = '/wizard/upload?document=' + encodeURIComponent(name) + '&file=' + encodeURIComponent(file.name);
      await json(url, {method: 'POST', body: file});
    }
    window.location.reload();
  }

  async function decide(form) {
    const rows = Array.from(form.querySelectorAll('tr.missing-row')).map((row) => ({
      document: row.querySelector('input[name=document]').value,
      comment: row.querySelector('input[name=comment]').value,
    }));
    const special = form.elements.special_conditions ? form.elements.special_conditions.value : '';
    const made = await json(form.dataset.decision, {
      method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({kind: form.dataset.kind, special_conditions: special, missing: rows}),
    });
    say(P.texts.signing, 'info');
    form.elements.signed_xml.value = await signXml('SIGNATURE', made.xml);
    form.submit();
  }

  const actions = {readCertificate, proveAndSubmit, signAndSend, upload, decide};

  document.addEventListener('click', (event) => {
    const button = event.target.closest('[data-action]');
    if (!button) { return; }
    event.preventDefault();
    const action = actions[button.dataset.action];
    const form = button.closest('form');
    if (button.dataset.check && !form.reportValidity()) { return; }
    action(form).catch((error) => say(error.message || String(error)));
  });

  document.addEventListener('click', (event) => {
    const add = event.target.closest('[data-add-row]');
    if (!add) { return; }
    event.preventDefault();
    const table = document.getElementById(add.dataset.addRow);
    const last = table.querySelector('tbody tr:last-child');
    const copy = last.cloneNode(true);
    copy.querySelectorAll('input').forEach((input) => { input.value = ''; });
    last.after(copy);
  });

  document.addEventListener('input', (event) => {
    if (event.target.dataset) { event.target.dataset.typed = '1'; }
  });
})();
