// FlowType login cookie hand-over (see ui/login_cookie.py). The cookie is httpOnly, so only an
// HTTP response can set or clear it: POST the one-time ticket (or nothing, to clear), then load
// the page that was asked for, whose websocket then carries the cookie.

const posted = new Set();

export default function ({ data, setTriggerValue }) {
  if (!data || posted.has(data.ticket || data.url)) return;
  posted.add(data.ticket || data.url);
  fetch(data.url, {
    method: "POST",
    credentials: "same-origin",
    cache: "no-store",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ticket: data.ticket }),
  })
    .then((response) => {
      if (!response.ok) throw new Error(`cookie route answered ${response.status}`);
      if (data.next !== null) window.location.replace(data.next);
    })
    .catch(() => {
      if (data.next !== null) setTriggerValue("failed", true);
    });
}
