"""A Slack-compatible sink for the local demo. Binds 127.0.0.1 only.

Answers an incoming-webhook POST with `ok`, and the Web API's `chat.postMessage` and
`chat.update` (any path ending so) with `{"ok": true, "channel": ..., "ts": ...}` as Slack
does, a new `ts` per posted message. Appends each request's JSON body to a file, with the
method under `_method` (`webhook`, `chat.postMessage`, `chat.update`).
"""

import http.server
import json
import sys
import threading


class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        method = self.path.rsplit("/", 1)[-1]
        try:
            msg = json.loads(body)
        except ValueError:
            msg = {"_unreadable": body.decode("utf-8", "replace")}
        web_api = method in ("chat.postMessage", "chat.update")
        msg["_method"] = method if web_api else "webhook"
        with self.server.lock:
            if method == "chat.postMessage":
                self.server.count += 1
                ts = f"1700000000.{self.server.count:06d}"
            else:
                ts = msg.get("ts", "")
            with open(self.server.out, "a") as f:
                f.write(json.dumps(msg) + "\n")
        if web_api:
            answer = json.dumps({"ok": True, "channel": msg.get("channel", "C0DEMO"), "ts": ts}).encode()
            kind = "application/json"
        else:
            answer, kind = b"ok", "text/plain"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Sink)
    server.out, server.count, server.lock = out, 0, threading.Lock()
    server.serve_forever()


def show(path):
    """Prints each received Slack message as a person would read it: thread replies indented
    under their thread, updates marked."""
    with open(path) as f:
        for line in f:
            msg = json.loads(line)
            method = msg.get("_method", "webhook")
            pad = ""
            if method == "chat.update":
                print(f"[chat.update of message {msg.get('ts')}]")
            elif msg.get("thread_ts"):
                print(f"  [reply in the thread of {msg['thread_ts']}]")
                pad = "  "
            for block in msg.get("blocks", []):
                kind = block.get("type")
                if kind in ("header", "section"):
                    print(pad + block["text"]["text"].replace("\n", "\n" + pad))
                elif kind == "context":
                    print(pad + "   " + " ".join(e.get("text", "") for e in block["elements"]))
                elif kind == "divider":
                    print(pad + "   ---")


if __name__ == "__main__":
    if sys.argv[1] == "show":
        show(sys.argv[2])
    else:
        main()
