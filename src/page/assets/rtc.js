// The UDP test from a browser, which cannot send STUN: a WebRTC data channel
// to session-ready `serve` (POST /__rtc), unordered and without retransmits,
// carrying a call-like stream (one 600-byte message every 5 ms, each
// starting with the test id and its sequence number; see PLAN). The page
// only sends and times: the figures (loss with its interval, jitter, round
// trip) are computed in Rust from the samples returned here, with the
// server's own count of the test (net::probe::browser_udp), so the rules are
// written once.
"use strict";

const sessionReadyRtc = (() => {
  // One message every 5 ms, each too large to share a datagram with the next
  // (two would not fit the browser's SCTP packet): SCTP bundles small
  // messages sent together, and one lost datagram would then take several
  // with it, so loss would be counted in bundles, not packets. 600 bytes
  // 200 times a second is about 1 Mbit/s each way, a video call's pace.
  const PLAN = {
    seconds: 2.5,
    tickMs: 5,
    perTick: 1,
    size: 600,
    // With no echo at all by then, stop: UDP is likely blocked.
    giveUpMs: 1500,
    maxGraceMs: 1000,
    connectMs: 5000,
  };

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function quantile(values, q) {
    if (values.length === 0) {
      return null;
    }
    const sorted = values.slice().sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }

  // Offer, answer and an open channel, or an Error saying which step failed.
  async function connect(base, plan) {
    const pc = new RTCPeerConnection({ iceServers: [] });
    const channel = pc.createDataChannel("session-ready", {
      ordered: false,
      maxRetransmits: 0,
    });
    channel.binaryType = "arraybuffer";
    await pc.setLocalDescription(await pc.createOffer());
    const response = await fetch(base + "/__rtc", {
      method: "POST",
      headers: { "Content-Type": "application/sdp" },
      body: pc.localDescription.sdp,
      cache: "no-store",
    });
    if (!response.ok) {
      pc.close();
      const error = new Error("the measurement server answered " + response.status);
      error.status = response.status;
      throw error;
    }
    await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
    const opened = await new Promise((resolve) => {
      if (channel.readyState === "open") {
        resolve(true);
        return;
      }
      const timer = setTimeout(() => resolve(false), plan.connectMs);
      channel.onopen = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    if (!opened) {
      pc.close();
      throw new Error("the data channel to the measurement server did not open");
    }
    return { pc, channel };
  }

  // Run the pattern against `base` (the server's origin). Resolves to the
  // test id, the samples for Rust and the server's count (null if unread).
  async function measure(base, overrides) {
    const plan = Object.assign({}, PLAN, overrides || {});
    const test = crypto.getRandomValues(new Uint8Array(8));
    const { pc, channel } = await connect(base, plan);
    const sentAt = new Map();
    const rtts = [];
    // When each answered message was sent, in the order of `rtts`: Rust
    // takes jitter over one message per 20 ms frame, as the CLI's stream does.
    const answeredAt = [];
    let ignored = 0;
    channel.onmessage = (event) => {
      const now = performance.now();
      const data = event.data instanceof ArrayBuffer ? new Uint8Array(event.data) : null;
      if (!data || data.length < 12 || test.some((b, i) => data[i] !== b)) {
        ignored += 1;
        return;
      }
      const seq = new DataView(data.buffer).getUint32(8);
      const at = sentAt.get(seq);
      if (at === undefined) {
        // Not one we are waiting for, or a duplicate.
        ignored += 1;
        return;
      }
      sentAt.delete(seq);
      rtts.push(now - at);
      answeredAt.push(at);
    };
    let seq = 0;
    const start = performance.now();
    while (channel.readyState === "open") {
      const now = performance.now();
      if (now - start >= plan.seconds * 1000) {
        break;
      }
      if (rtts.length === 0 && now - start >= plan.giveUpMs) {
        break;
      }
      // SCTP is congestion-controlled even without retransmits: while the
      // browser still holds messages back, sending more would time its own
      // queue, not the line. This tick is skipped instead (the rate shows it).
      const held = channel.bufferedAmount > 0;
      for (let k = 0; k < (held ? 0 : plan.perTick); k += 1) {
        const message = new Uint8Array(plan.size);
        message.set(test);
        new DataView(message.buffer).setUint32(8, seq);
        sentAt.set(seq, performance.now());
        channel.send(message);
        seq += 1;
      }
      await sleep(plan.tickMs);
    }
    // The rate the browser really kept (its timers may be slower than asked).
    const sendingMs = Math.max(performance.now() - start, 1);
    // Stragglers get four times the slow end of the round trips seen.
    const p90 = quantile(rtts, 0.9);
    const grace = Math.min(Math.max(4 * (p90 === null ? 250 : p90), 300), plan.maxGraceMs);
    const graceEnd = performance.now() + grace;
    while (sentAt.size > 0 && performance.now() < graceEnd) {
      await sleep(10);
    }
    const end = performance.now();
    const unanswered = Array.from(sentAt.values(), (at) => end - at);
    channel.close();
    pc.close();
    let counts = null;
    try {
      const response = await fetch(base + "/__rtc?test=" + hex(test), { cache: "no-store" });
      if (response.ok) {
        counts = await response.json();
      }
    } catch (_) {
      counts = null;
    }
    return {
      test: hex(test),
      samples: {
        sent: seq,
        rtts_ms: rtts,
        sent_ms: answeredAt.map((at) => at - start),
        unanswered_ms: unanswered,
        ended_ms: end - start,
        packets_per_s: (seq * 1000) / sendingMs,
        ignored_replies: ignored,
      },
      server_counts: counts,
    };
  }

  return { measure };
})();
