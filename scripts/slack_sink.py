"""A Slack-compatible incoming-webhook sink for the local demo: answers every POST with `ok`
(as Slack does) and appends the JSON body to a file. Binds 127.0.0.1 only."""

import http.server
import json
import sys


class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(self.server.out, "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    server = http.server.HTTPServer(("127.0.0.1", port), Sink)
    server.out = out
    server.serve_forever()


def show(path):
    """Prints each received Slack message as a person would read it."""
    with open(path) as f:
        for line in f:
            msg = json.loads(line)
            for block in msg.get("blocks", []):
                kind = block.get("type")
                if kind in ("header", "section"):
                    print(block["text"]["text"])
                elif kind == "context":
                    print("   " + " ".join(e.get("text", "") for e in block["elements"]))
                elif kind == "divider":
                    print("   ---")


if __name__ == "__main__":
    if sys.argv[1] == "show":
        show(sys.argv[2])
    else:
        main()
