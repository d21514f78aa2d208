"""An ASGI app for the security regression tests, served by hypercorn.

Records every request it gets: method, path, HTTP version, headers, the
body, and whether the body arrived complete (the last http.request message
had more_body false) or was cut off (http.disconnect: a reset stream or a
closed connection). GET /__seen answers the records as JSON, POST /__clear
forgets them; both are for the test itself, sent straight to hypercorn.
Every other request whose body is complete is answered 200 "plain".
"""
import json

SEEN = []


async def _answer(send, status, body, content_type=b"text/plain"):
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/__seen":
        await _answer(send, 200, json.dumps(SEEN).encode(), b"application/json")
        return
    if path == "/__clear":
        SEEN.clear()
        await _answer(send, 200, b"cleared")
        return
    body = b""
    complete = False
    while True:
        message = await receive()
        if message["type"] == "http.request":
            body += message.get("body", b"")
            if not message.get("more_body", False):
                complete = True
                break
        elif message["type"] == "http.disconnect":
            break
    headers = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        headers[key] = headers[key] + ", " + value.decode("latin-1") if key in headers else value.decode("latin-1")
    SEEN.append(
        {
            "method": scope["method"],
            "path": path,
            "http_version": scope["http_version"],
            "headers": headers,
            "body": body.decode("latin-1"),
            "complete": complete,
        }
    )
    if complete:
        await _answer(send, 200, b"plain")
