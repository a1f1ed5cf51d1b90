"""The editor's page served at ``/``: paste a draft, see the HTML report of its repeats.

One self-contained page (inline CSS and script). The script posts the draft to
``/v1/check`` asking for the ``html`` report and shows it in a sandboxed frame (scripts run,
but in an opaque origin: the report cannot reach the page or the service).
"""
from __future__ import annotations

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dedup: check a draft</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; margin: 1.5rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.4rem; margin: 0 0 .8rem; }
label { display: block; font-weight: 600; margin: .6rem 0 .2rem; }
textarea { width: 100%; box-sizing: border-box; min-height: 16rem; font: inherit; padding: .5rem;
  unicode-bidi: plaintext; }
.row { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; margin: .6rem 0; }
.row label { display: inline; font-weight: normal; margin: 0; }
button { font: inherit; padding: .4rem 1.2rem; }
#status { margin: .6rem 0; min-height: 1.5em; }
#status.error { color: #a00; }
iframe { width: 100%; min-height: 40rem; border: 1px solid #ccc; background: #fff; }
iframe[hidden] { display: none; }
</style>
</head>
<body>
<h1>Check a draft for repeated sentences</h1>
<form id="draft-form">
  <label for="draft">Draft</label>
  <textarea id="draft" name="text" dir="auto" required placeholder="Paste the article here"></textarea>
  <div class="row">
    <label for="doc-id">Id <input id="doc-id" name="id" value="draft" maxlength="1024"></label>
    <label for="format">Format <select id="format" name="format">
      <option value="text">plain text</option><option value="markdown">Markdown</option><option value="html">HTML</option>
    </select></label>
    <label><input type="checkbox" id="archive" name="archive" checked> against the archive</label>
    <button type="submit" id="check">Check</button>
  </div>
</form>
<div id="status" role="status" aria-live="polite"></div>
<iframe id="report" title="Report" sandbox="allow-scripts" hidden></iframe>
<script>
(function () {
  var form = document.getElementById("draft-form");
  var status = document.getElementById("status");
  var frame = document.getElementById("report");
  function say(text, isError) { status.textContent = text; status.className = isError ? "error" : ""; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {
      text: document.getElementById("draft").value,
      id: document.getElementById("doc-id").value || "draft",
      format: document.getElementById("format").value,
      options: {archive: document.getElementById("archive").checked},
      report: "html"
    };
    say("Checking\u2026", false);
    fetch("v1/check", {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(body)})
      .then(function (response) {
        return response.text().then(function (text) {
          if (!response.ok) {
            var message = text;
            try { message = JSON.parse(text).message || text; } catch (e) {}
            throw new Error(response.status + ": " + message);
          }
          var found = response.headers.get("x-dedup-findings") || "0";
          say(found === "1" ? "1 repeat found." : found + " repeats found.", false);
          frame.srcdoc = text;
          frame.hidden = false;
        });
      })
      .catch(function (error) { say("Could not check the draft: " + error.message, true); frame.hidden = true; });
  });
})();
</script>
</body>
</html>
"""


def editor_page() -> str:
    return PAGE
