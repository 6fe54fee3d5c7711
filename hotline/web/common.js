// Shared by the agent desktop, the supervisor view and the wallboard: labels in zh/en, the
// token (entered once, kept in localStorage), REST calls, and the live WebSocket that keeps
// a copy of each stream (snapshot, then numbered deltas; a gap asks for a fresh snapshot).
"use strict";

const LABELS = {
  en: {
    token: "Access token", save: "Save", signout: "Forget token", lang: "中文",
    state: "State", login: "Log in", logout: "Log out", pause: "Pause", unpause: "Ready",
    device: "Device", reason: "Reason", incoming: "Incoming call", caller: "Caller",
    name: "Name", hotline: "Hotline", product: "Product", language: "Language", vip: "VIP",
    ivr_path: "IVR path", fields: "Collected", hold: "Hold", unhold: "Resume",
    hangup: "Hang up", transfer: "Transfer", attended: "Attended", target: "To",
    complete_transfer: "Complete transfer", cancel_transfer: "Back to caller",
    disposition: "Disposition", note: "Note", submit: "Save", wrapup: "Wrap-up",
    queues: "Queues", agents: "Agents", calls: "Calls", waiting: "Waiting",
    longest: "Longest wait", sl: "Service level", answered: "Answered",
    abandoned: "Abandoned", available: "Available", on_call: "On call", paused: "Paused",
    wrap_up: "Wrap-up", reserved: "Ringing", logged_out: "Logged out", ewt: "Est. wait",
    listen: "Listen", whisper: "Whisper", barge: "Barge", my_device: "My device",
    asa: "ASA", offered: "Offered", connected: "Connected", force: "Force",
    agent: "Agent", queue: "Queue", number: "Number", today: "today", live: "Live",
    offline: "Reconnecting…", sent: "Sent", failed: "Failed",
    rebuilding: "Rebuilding today's figures…",
    needed_next: "Needed next 30 min", logged_in: "Logged in", staffing_plan: "Staffing plan",
    date: "Date", week: "Week", shrinkage: "Shrinkage %", show: "Show",
    agents_needed: "Agents needed", positions: "Positions after shrinkage", no_plan: "No plan",
    rec_pause: "Pause recording (card capture)", rec_resume: "Resume recording",
    rec_paused: "Recording paused", rec_intent: "Will be paused when recording starts",
    rec_not_recording: "This call is not being recorded",
    rec_403: "Not allowed for this call", rec_404: "Call or recording not found",
    rec_409: "The call is not in a state that allows this",
    rec_502: "The PBX refused", rec_503: "Recording service unavailable",
  },
  zh: {
    token: "访问令牌", save: "保存", signout: "清除令牌", lang: "English",
    state: "状态", login: "签入", logout: "签出", pause: "小休", unpause: "就绪",
    device: "话机", reason: "原因", incoming: "来电", caller: "主叫号码",
    name: "姓名", hotline: "热线", product: "产品", language: "语言", vip: "贵宾等级",
    ivr_path: "语音导航路径", fields: "已收集信息", hold: "保持", unhold: "恢复",
    hangup: "挂断", transfer: "转接", attended: "咨询转接", target: "转至",
    complete_transfer: "完成转接", cancel_transfer: "返回客户",
    disposition: "处理结果", note: "备注", submit: "保存", wrapup: "话后处理",
    queues: "队列", agents: "坐席", calls: "通话", waiting: "排队",
    longest: "最长等待", sl: "服务水平", answered: "接通",
    abandoned: "放弃", available: "空闲", on_call: "通话中", paused: "小休",
    wrap_up: "话后处理", reserved: "振铃", logged_out: "未签入", ewt: "预计等待",
    listen: "监听", whisper: "密语", barge: "强插", my_device: "我的话机",
    asa: "平均应答", offered: "进线", connected: "通话中", force: "强制",
    agent: "坐席", queue: "队列", number: "号码", today: "今日", live: "实时",
    offline: "重新连接中…", sent: "已发送", failed: "失败",
    rebuilding: "正在重建今日数据…",
    needed_next: "未来30分钟需坐席", logged_in: "已签入", staffing_plan: "排班需求",
    date: "日期", week: "整周", shrinkage: "损耗率 %", show: "显示",
    agents_needed: "所需坐席", positions: "排班人数（含损耗）", no_plan: "无排班数据",
    rec_pause: "暂停录音（卡号采集）", rec_resume: "恢复录音",
    rec_paused: "录音已暂停", rec_intent: "录音开始时将保持暂停",
    rec_not_recording: "本通话当前未录音",
    rec_403: "无权操作此通话", rec_404: "找不到该通话或录音",
    rec_409: "通话当前状态不允许此操作",
    rec_502: "交换机拒绝执行", rec_503: "录音服务不可用",
  },
};

const Hotline = {
  lang: localStorage.getItem("hotline.lang") || "zh",
  t(key) {
    return (LABELS[this.lang] && LABELS[this.lang][key]) || LABELS.en[key] || key;
  },
  translate(root = document) {
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = this.t(el.dataset.i18n);
    document.documentElement.lang = this.lang === "zh" ? "zh-CN" : "en";
  },
  toggleLang() {
    this.lang = this.lang === "zh" ? "en" : "zh";
    localStorage.setItem("hotline.lang", this.lang);
    this.translate();
    document.dispatchEvent(new Event("hotline-lang"));
  },
  token() {
    return localStorage.getItem("hotline.token");
  },
  // Shows the token form until a token is saved; resolves with the token.
  requireToken() {
    const form = document.getElementById("token-form");
    const saved = this.token();
    if (saved) {
      form.hidden = true;
      return Promise.resolve(saved);
    }
    form.hidden = false;
    return new Promise((resolve) => {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const value = form.querySelector("input").value.trim();
        if (!value) return;
        localStorage.setItem("hotline.token", value);
        form.hidden = true;
        resolve(value);
      });
    });
  },
  forgetToken() {
    localStorage.removeItem("hotline.token");
    location.reload();
  },
  async api(path, { method = "GET", body } = {}) {
    const response = await fetch(`/api/v1${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.token()}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) this.forgetToken();
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (parseError) {
      if (response.ok) throw parseError;
    }
    if (!response.ok) {
      const detail = data && data.detail;
      const error = new Error(
        typeof detail === "string" ? detail : detail ? JSON.stringify(detail) : response.statusText);
      error.status = response.status;
      throw error;
    }
    return data;
  },
  header(title) {
    const bar = document.getElementById("bar");
    bar.querySelector("[data-role=lang]").addEventListener("click", () => this.toggleLang());
    bar.querySelector("[data-role=signout]").addEventListener("click", () => this.forgetToken());
    document.title = title;
    this.translate();
  },
  fmtSeconds(s) {
    if (s === null || s === undefined) return "–";
    s = Math.round(s);
    return s >= 60 ? `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}` : `${s}s`;
  },
  fmtPercent(x) {
    return x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`;
  },
  escape(text) {
    const div = document.createElement("div");
    div.textContent = text === null || text === undefined ? "" : String(text);
    return div.innerHTML;
  },
};

// One WebSocket with a local copy of every subscribed stream.
class LiveSocket {
  constructor(streams, onChange, onHello) {
    this.streams = streams;
    this.onChange = onChange; // (streamName, state, message)
    this.onHello = onHello || (() => {});
    this.state = {};
    this.seq = {};
    this.backoff = 500;
    this.connect();
  }
  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
    this.ws = ws;
    ws.onopen = () => {
      this.backoff = 500;
      ws.send(JSON.stringify({ op: "auth", token: Hotline.token() }));
      ws.send(JSON.stringify({ op: "subscribe", streams: this.streams }));
      document.body.classList.remove("offline");
    };
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = (event) => {
      document.body.classList.add("offline");
      if (event.code === 4401) return Hotline.forgetToken();
      // Cut off (4008) or dropped: come back, and the new snapshots replace everything.
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10000);
    };
  }
  receive(message) {
    if (message.type === "hello") return this.onHello(message);
    if (message.type === "snapshot") {
      this.state[message.stream] = message.data;
      this.seq[message.stream] = message.seq;
    } else if (message.type === "delta") {
      const last = this.seq[message.stream];
      if (last === undefined || message.seq !== last + 1) {
        // A gap: our copy may be wrong, so ask for the whole state again.
        this.ws.send(JSON.stringify({ op: "snapshot", stream: message.stream }));
        return;
      }
      const state = this.state[message.stream] || {};
      for (const [key, value] of Object.entries(message.data)) {
        if (value === null) delete state[key];
        else state[key] = value;
      }
      this.state[message.stream] = state;
      this.seq[message.stream] = message.seq;
    } else {
      return;
    }
    this.onChange(message.stream, this.state[message.stream], message);
  }
}
