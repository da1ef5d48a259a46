// FlowType typing screen and keystroke capture (SPEC §3.1), a Streamlit components-v2 module.
//
// Streamlit re-runs the default export whenever `data` changes (and never calls the previous
// cleanup then), so listeners are bound once per mounted root and later runs only hand over the
// new data. One sentence's presses go to Python as ONE trigger value ("submit") when Enter is
// pressed; on the result screen Enter sends "next" and Escape "retry".
//
// What is recorded is exactly the key capture: press and release times and keys. The live marks,
// caret, WPM and timer only read the text field; they add nothing to the batch but the timing
// provenance (timer resolution, isolation, user agent, hidden time, focus losses).

const captures = new WeakMap();

// Blocked so every character in the box was typed here, key by key.
const BLOCKED_INPUT = new Set(["insertFromPaste", "insertFromPasteAsQuotation", "insertFromDrop", "insertFromYank"]);
// No browser coarsens timers past 100 ms; a longer "tick" is a gap between keys (the server checks it).
const MAX_RESOLUTION_MS = 100;
const TICK_MS = 200; // live WPM and timer refresh

// Event times on the epoch clock with sub-millisecond precision; Date.now() is coarse and can jump.
const epochMs = (event) => performance.timeOrigin + event.timeStamp;
const chars = (text) => Array.from(text); // code points, as Python counts them

// The clock's tick: the smallest non-zero step between back-to-back readings (event timestamps
// alone overstate it, keys are milliseconds apart). Bounded: a frozen clock gives up quickly.
function clockTick() {
  let best = Infinity;
  let last = performance.now();
  for (let i = 0, steps = 0; i < 100000 && steps < 5; i++) {
    const now = performance.now();
    if (now > last) {
      best = Math.min(best, now - last);
      steps++;
      last = now;
    }
  }
  return best;
}

function span(className, text) {
  const node = document.createElement("span");
  node.className = className;
  node.textContent = text;
  return node;
}

class Capture {
  constructor(root) {
    this.root = root.querySelector(".ft-capture");
    this.area = root.querySelector("textarea");
    this.prompt = root.querySelector(".ft-sentence");
    this.overflow = root.querySelector(".ft-overflow");
    this.notice = root.querySelector(".ft-notice");
    this.wpm = root.querySelector(".ft-wpm");
    this.clock = root.querySelector(".ft-time");
    this.count = root.querySelector(".ft-count");
    this.result = root.querySelector(".ft-result");
    this.targetLine = root.querySelector(".ft-target-line");
    this.typedLine = root.querySelector(".ft-typed-line");
    this.abort = new AbortController();
    this.identity = null;
    this.data = null;
    this.setTriggerValue = null;
    this.timer = null;
    this.tick = clockTick();
    const signal = { signal: this.abort.signal };
    const on = (type, handler) => this.area.addEventListener(type, handler, signal);
    on("keydown", (event) => this.onKeyDown(event));
    on("keyup", (event) => this.onKeyUp(event));
    on("input", () => this.render());
    const block = (event) => event.preventDefault();
    on("paste", block);
    on("drop", block);
    on("contextmenu", block);
    on("beforeinput", (event) => BLOCKED_INPUT.has(event.inputType) && event.preventDefault());
    this.result.addEventListener("keydown", (event) => this.onResultKey(event), signal);
    document.addEventListener("visibilitychange", () => this.onVisibility(), signal);
    window.addEventListener("blur", () => this.typing() && this.blurs++, signal);
    this.clear();
  }

  // New sentence, section, attempt, mode or participant token: drop everything captured so far,
  // so events from one (token, section) can never end up in another's batch.
  update(data, setTriggerValue) {
    this.setTriggerValue = setTriggerValue;
    const identity = JSON.stringify([data.token, data.section_index, data.attempt, data.sentence, data.mode]);
    if (identity === this.identity) return;
    this.identity = identity;
    this.data = data;
    this.target = chars(data.sentence);
    this.root.dataset.mode = data.mode;
    this.root.dataset.feedback = data.feedback ? "on" : "off";
    // Tells a watching test (or page) which section the field now records for.
    this.area.dataset.token = data.token;
    this.area.dataset.section = String(data.section_index);
    this.clear();
    this.prompt.replaceChildren(...this.target.map((ch) => span("ft-char", ch)), span("ft-char ft-end", ""));
    if (data.mode === "result") {
      this.showResult(data.result);
      this.result.focus({ preventScroll: true });
    } else {
      this.render();
      this.area.focus({ preventScroll: true });
    }
  }

  clear() {
    this.events = [];
    this.held = new Map(); // event.code -> the press still waiting for its release
    this.area.value = "";
    this.confirmShort = false;
    this.hiddenMs = 0;
    this.hiddenSince = null;
    this.blurs = 0;
    this.notice.textContent = "";
    this.stopTimer();
  }

  typing() {
    return this.events.length > 0;
  }

  onVisibility() {
    if (!this.typing()) return;
    const now = performance.now();
    if (document.visibilityState === "hidden") this.hiddenSince = now;
    else if (this.hiddenSince !== null) {
      this.hiddenMs += now - this.hiddenSince;
      this.hiddenSince = null;
    }
  }

  onKeyDown(event) {
    if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault(); // never a newline; Shift+Enter is treated like Enter
      if (!event.repeat) this.submit(event);
      return;
    }
    if (event.repeat) return;
    this.confirmShort = false;
    this.notice.textContent = "";
    const press = {
      key: event.key,
      code: event.code,
      keyCode: event.keyCode,
      press: epochMs(event),
      release: null,
    };
    this.events.push(press);
    this.held.set(event.code, press);
    if (this.timer === null) this.timer = setInterval(() => this.renderStats(), TICK_MS);
  }

  onKeyUp(event) {
    const press = this.held.get(event.code);
    if (press === undefined) return;
    press.release = epochMs(event);
    this.held.delete(event.code);
  }

  onResultKey(event) {
    if (event.repeat || event.isComposing) return;
    const action = event.key === "Enter" ? "next" : event.key === "Escape" ? "retry" : null;
    if (action === null) return;
    event.preventDefault();
    const nonce = epochMs(event); // names this press, so a replayed value is acted on once
    this.setTriggerValue(action, { token: this.data.token, section_index: this.data.section_index, nonce });
  }

  // The live view: caret at the next character, typed ones marked right or wrong, extra ones shown
  // past the sentence's end. With feedback off (a study condition) nothing is marked.
  render() {
    const typed = chars(this.area.value);
    const feedback = this.data?.feedback;
    this.prompt.querySelectorAll(".ft-char").forEach((node, i) => {
      const done = feedback && i < typed.length && i < this.target.length;
      node.classList.toggle("ft-ok", done && typed[i] === this.target[i]);
      node.classList.toggle("ft-bad", done && typed[i] !== this.target[i]);
      node.classList.toggle("ft-caret", feedback && i === Math.min(typed.length, this.target.length));
    });
    const extra = feedback ? typed.slice(this.target.length).join("") : "";
    this.overflow.textContent = extra;
    this.renderStats();
  }

  renderStats() {
    const typed = chars(this.area.value).length;
    const elapsed = this.typing() ? performance.timeOrigin + performance.now() - this.events[0].press : 0;
    // SPEC §3.5: (|T| - 1) characters over the time since the first press, five characters a word.
    const wpm = elapsed > 0 && typed > 1 ? ((typed - 1) / elapsed) * 60000 / 5 : 0;
    this.wpm.textContent = String(Math.round(wpm));
    this.clock.textContent = (elapsed / 1000).toFixed(1);
    this.count.textContent = `${typed}/${this.target.length}`;
  }

  stopTimer() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  submit(event) {
    const text = this.area.value;
    if (text.trim() === "" || this.events.length === 0) {
      this.notice.textContent = "Type the sentence first, then press Enter.";
      return;
    }
    const length = chars(text).length;
    if (length < this.target.length * this.data.min_input_share && !this.confirmShort) {
      this.confirmShort = true;
      this.notice.textContent =
        `You typed ${length} of ${this.target.length} characters. Press Enter again to submit it ` +
        "anyway (it is kept, marked incomplete), or keep typing.";
      return;
    }
    const submitted = epochMs(event);
    const events = this.events.slice().sort((a, b) => a.press - b.press);
    const payload = {
      token: this.data.token,
      section_index: this.data.section_index,
      text,
      started_at: events[0].press,
      submitted_at: submitted,
      events,
      provenance: this.provenance(events, submitted),
    };
    this.clear(); // ready at once; Python re-mounts with the result or the next section
    this.render();
    this.setTriggerValue("submit", payload);
  }

  provenance(events, submitted) {
    const times = events.flatMap((e) => (e.release === null ? [e.press] : [e.press, e.release]));
    times.push(submitted);
    times.sort((a, b) => a - b);
    let tick = this.tick;
    for (let i = 1; i < times.length; i++) {
      const gap = times[i] - times[i - 1];
      if (gap > 0 && gap < tick) tick = gap;
    }
    const hidden = this.hiddenMs + (this.hiddenSince === null ? 0 : performance.now() - this.hiddenSince);
    return {
      timer_resolution_ms: tick > 0 && tick <= MAX_RESOLUTION_MS ? Number(tick.toPrecision(6)) : null,
      cross_origin_isolated: window.crossOriginIsolated === true,
      user_agent: navigator.userAgent.slice(0, 512) || null,
      hidden_ms: Math.min(Math.round(hidden), Math.floor(submitted - events[0].press)),
      blur_count: this.blurs,
    };
  }

  // The result: the sentence against what was typed, differences marked (from flowtype_core's
  // alignment: equal, replace, delete = left out, insert = typed in excess).
  showResult(result) {
    const segments = result?.segments ?? [];
    const target = [];
    const typed = [];
    for (const { op, target: want, typed: got } of segments) {
      if (want) target.push(span(op === "equal" ? "ft-seg" : "ft-seg ft-missed", want));
      if (got) typed.push(span(op === "equal" ? "ft-seg" : "ft-seg ft-wrong", got));
    }
    this.targetLine.replaceChildren(...target);
    this.typedLine.replaceChildren(...typed);
    this.result.classList.toggle("ft-no-diff", segments.length === 0);
  }

  dispose() {
    this.stopTimer();
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
