// The benchmark servers' HTTP side: GET /__bench__/memory answers the RSS after a full GC,
// so the load generator can measure memory per connection.
export function controlRequests(request, response) {
  if (request.url === '/__bench__/memory') {
    globalThis.gc?.();
    globalThis.gc?.();
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ rss: process.memoryUsage().rss }));
  } else {
    response.writeHead(404).end();
  }
}

/** Tells the parent process where to connect: the first line on stdout. */
export function announce(server) {
  console.log(`listening ${server.address().port}`);
}
