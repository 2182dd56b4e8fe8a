#!/usr/bin/env python3
"""Multi-turn image chat through haproxy: session routing vs round robin (a benchmark, not a test).

Each of --sessions conversations runs --turns turns one after another (the conversations run
concurrently). Turn 1 sends an image; every later turn keeps the whole history (so the image
and earlier answers are in the prompt again) and adds a question, and every second turn adds
another image from a small shared pool (so images also repeat across conversations).

Two passes over the same running cluster (scripts/cluster up N):
  session:     header X-Ocular-Session = conversation id -> consistent hashing
  round-robin: no session key -> haproxy spreads requests round robin
Each pass uses its own cache_salt, so neither pass sees the other's prefix or feature caches
(salts isolate both caches, the Redis tier included).

Reports per pass: mean/median time to first token (client side, streaming), the share of
prompt tokens served from the prefix cache, and media served by the vision encoder vs caches.

  scripts/cluster up 3
  python3 bench/cluster_routing_bench.py --env .cluster/cluster.env --images DIR
  scripts/cluster down
"""
import argparse
import base64
import json
import os
import statistics
import sys
import threading
import time
import urllib.request


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                env[k] = v
    return env


def data_url(path):
    kind = "jpeg" if path.lower().endswith((".jpg", ".jpeg")) else "png"
    with open(path, "rb") as f:
        return f"data:image/{kind};base64," + base64.b64encode(f.read()).decode()


def stream_chat(url, body, session):
    """Returns (ttft_s, text, usage, replica)."""
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    if session:
        req.add_header("X-Ocular-Session", session)
    t0 = time.perf_counter()
    ttft = None
    text = []
    usage = None
    with urllib.request.urlopen(req, timeout=600) as res:
        replica = res.headers.get("X-Ocular-Replica", "")
        for raw in res:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            for ch in chunk.get("choices", []):
                piece = ch.get("delta", {}).get("content")
                if piece:
                    if ttft is None:
                        ttft = time.perf_counter() - t0
                    text.append(piece)
            if chunk.get("usage"):
                usage = chunk["usage"]
    return ttft if ttft is not None else time.perf_counter() - t0, "".join(text), usage, replica


def run_pass(url, mode, images, sessions, turns, max_tokens, salt):
    results = []
    lock = threading.Lock()

    def conversation(s):
        messages = []
        session = f"{salt}-conv-{s}" if mode == "session" else ""
        for t in range(turns):
            content = []
            if t % 2 == 0:  # an image on turns 1, 3, ...: pool shared by all conversations
                content.append({"type": "image_url",
                                "image_url": {"url": images[(s + t // 2) % len(images)]}})
            content.append({"type": "text", "text": f"Question {t + 1} of conversation {s}?"})
            messages.append({"role": "user", "content": content})
            body = {"messages": messages, "max_tokens": max_tokens, "temperature": 0,
                    "ignore_eos": True, "stream": True, "cache_salt": salt,
                    "stream_options": {"include_usage": True}}
            ttft, text, usage, replica = stream_chat(url, body, session)
            messages.append({"role": "assistant", "content": text})
            with lock:
                results.append({"ttft": ttft, "usage": usage, "replica": replica, "turn": t})

    threads = [threading.Thread(target=conversation, args=(s,)) for s in range(sessions)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    ttfts = [r["ttft"] for r in results]
    later = [r["ttft"] for r in results if r["turn"] > 0]
    prompt = sum(r["usage"]["prompt_tokens"] for r in results)
    cached = sum(r["usage"]["prompt_tokens_details"]["cached_tokens"] for r in results)
    media = [m for r in results for m in r["usage"]["media"]]
    encoded = sum(1 for m in media if m["cache"] == "miss")
    prefix = sum(1 for m in media if m.get("prefix"))
    feature_hits = sum(1 for m in media if m["cache"] in ("hit", "similar") and not m.get("prefix"))
    encode_ms = sum(r["usage"]["timings"]["encode_ms"] for r in results)
    return {
        "mode": mode, "requests": len(results), "wall_s": round(wall, 2),
        "ttft_mean_ms": round(1e3 * statistics.mean(ttfts), 1),
        "ttft_median_ms": round(1e3 * statistics.median(ttfts), 1),
        "ttft_later_turns_mean_ms": round(1e3 * statistics.mean(later), 1) if later else None,
        "prefix_cached_share": round(cached / prompt, 3) if prompt else 0.0,
        "media_items": len(media), "media_encoded": encoded, "media_from_kv_prefix": prefix,
        "media_feature_cache_hits": feature_hits, "encode_ms_total": round(encode_ms, 1),
        "replicas_used": sorted({r["replica"] for r in results}),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--env", help="cluster.env written by scripts/cluster up")
    ap.add_argument("--url", help="haproxy URL (instead of --env)")
    ap.add_argument("--images", required=True, help="folder of .png/.jpg images (a few)")
    ap.add_argument("--sessions", type=int, default=6)
    ap.add_argument("--turns", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    url = a.url or read_env(a.env)["OCULAR_CLUSTER_URL"]
    files = sorted(f for f in os.listdir(a.images) if f.lower().endswith((".png", ".jpg", ".jpeg")))
    if not files:
        sys.exit("no images in " + a.images)
    images = [data_url(os.path.join(a.images, f)) for f in files[:4]]
    run_id = str(int(time.time()))
    # Rounds alternate the order (session first, then round robin first, ...) so that neither
    # mode always runs on colder replicas; every pass has a fresh salt (cold caches).
    out = []
    for r in range(a.rounds):
        modes = ("session", "round-robin") if r % 2 == 0 else ("round-robin", "session")
        for mode in modes:
            res = run_pass(url, mode, images, a.sessions, a.turns, a.max_tokens,
                           f"bench-{run_id}-{r}-{mode}")
            res["round"] = r
            out.append(res)
    if a.json:
        print(json.dumps(out, indent=1))
        return
    for r in out:
        print(f"round {r['round']} {r['mode']:>12}: {r['requests']} requests in {r['wall_s']} s; TTFT mean "
              f"{r['ttft_mean_ms']} ms (median {r['ttft_median_ms']}, turns 2+ "
              f"{r['ttft_later_turns_mean_ms']}); prompt tokens from prefix cache "
              f"{100 * r['prefix_cached_share']:.1f}%; media {r['media_items']}: encoded "
              f"{r['media_encoded']}, KV prefix {r['media_from_kv_prefix']}, feature cache "
              f"{r['media_feature_cache_hits']}; encode {r['encode_ms_total']} ms; replicas "
              f"{','.join(r['replicas_used'])}")
    for mode in ("session", "round-robin"):
        rs = [r for r in out if r["mode"] == mode]
        print(f"{mode:>12} over {len(rs)} passes: TTFT mean "
              f"{statistics.mean(r['ttft_mean_ms'] for r in rs):.1f} ms, turns 2+ "
              f"{statistics.mean(r['ttft_later_turns_mean_ms'] for r in rs):.1f} ms; prefix-cached "
              f"prompt share {100 * statistics.mean(r['prefix_cached_share'] for r in rs):.1f}%; "
              f"media encoded {sum(r['media_encoded'] for r in rs)}, from KV prefix "
              f"{sum(r['media_from_kv_prefix'] for r in rs)}, feature-cache hits "
              f"{sum(r['media_feature_cache_hits'] for r in rs)} of "
              f"{sum(r['media_items'] for r in rs)}")


if __name__ == "__main__":
    main()
