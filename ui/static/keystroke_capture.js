// FlowType keystroke capture (SPEC §3.1), a Streamlit components-v2 module.
//
// Streamlit re-runs the default export whenever `data` changes (and never calls the previous
// cleanup then), so listeners are bound once per mounted root and later runs only hand over the
// new data. One sentence's presses go to Python as ONE trigger value when Enter is pressed.

const captures = new WeakMap();

// Blocked so every character in the box was typed here, key by key.
const BLOCKED_INPUT = new Set(["insertFromPaste", "insertFromPasteAsQuotation", "insertFromDrop", "insertFromYank"]);

// Event times on the epoch clock with sub-millisecond precision; Date.now() is coarse and can jump.
const epochMs = (event) => performance.timeOrigin + event.timeStamp;

class Capture {
  constructor(root) {
    this.area = root.querySelector("textarea");
    this.prompt = root.querySelector(".ft-sentence");
    this.abort = new AbortController();
    this.identity = null;
    this.data = null;
    this.setTriggerValue = null;
    this.clear();
    const on = (type, handler) => this.area.addEventListener(type, handler, { signal: this.abort.signal });
    on("keydown", (event) => this.onKeyDown(event));
    on("keyup", (event) => this.onKeyUp(event));
    const block = (event) => event.preventDefault();
    on("paste", block);
    on("drop", block);
    on("contextmenu", block);
    on("beforeinput", (event) => BLOCKED_INPUT.has(event.inputType) && event.preventDefault());
  }

  // New sentence, section or participant token: drop everything captured so far, so events
  // from one (token, section) can never end up in another's batch.
  update(data, setTriggerValue) {
    this.setTriggerValue = setTriggerValue;
    const identity = JSON.stringify([data.token, data.section_index, data.sentence]);
    if (identity === this.identity) return;
    this.identity = identity;
    this.data = data;
    this.prompt.textContent = data.sentence;
    // Tells a watching test (or page) which section the field now records for.
    this.area.dataset.token = data.token;
    this.area.dataset.section = String(data.section_index);
    this.clear();
    this.area.focus({ preventScroll: true });
  }

  clear() {
    this.events = [];
    this.held = new Map(); // event.code -> the press still waiting for its release
    this.area.value = "";
  }

  onKeyDown(event) {
    if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault(); // never a newline; Shift+Enter is treated like Enter
      if (!event.repeat) this.submit(event);
      return;
    }
    if (event.repeat) return;
    const press = {
      key: event.key,
      code: event.code,
      keyCode: event.keyCode,
      press: epochMs(event),
      release: null,
    };
    this.events.push(press);
    this.held.set(event.code, press);
  }

  onKeyUp(event) {
    const press = this.held.get(event.code);
    if (press === undefined) return;
    press.release = epochMs(event);
    this.held.delete(event.code);
  }

  submit(event) {
    const text = this.area.value;
    if (text.trim() === "" || this.events.length === 0) return;
    const events = this.events.slice().sort((a, b) => a.press - b.press);
    const payload = {
      token: this.data.token,
      section_index: this.data.section_index,
      text,
      started_at: events[0].press,
      submitted_at: epochMs(event),
      events,
    };
    this.clear(); // ready at once; Python re-mounts with the next section
    this.setTriggerValue("submit", payload);
  }

  dispose() {
    this.abort.abort();
  }
}

export default function ({ data, parentElement, setTriggerValue }) {
  let capture = captures.get(parentElement);
  if (capture === undefined) {
    capture = new Capture(parentElement);
    captures.set(parentElement, capture);
  }
  capture.update(data, setTriggerValue);
  return () => {
    captures.get(parentElement)?.dispose();
    captures.delete(parentElement);
  };
}
