import assert from "node:assert/strict";
import { isDriverConnectionNoise, watchDriverConnections } from "./_driver_rejections.ts";

function driverError(
  code: string,
  address?: string,
  port?: number,
  file = "postgres/src/connection.js",
): Error {
  const error = Object.assign(new Error(`write ${code} ${address}:${port}`), { code, address, port });
  error.stack = `Error: ${error.message}\n    at Socket.closed (file:///app/node_modules/${file}:453:57)`;
  return error;
}

Deno.test("the driver guard marks only postgres.js connection errors of watched clients as handled", () => {
  const closed = driverError("CONNECTION_CLOSED", "127.0.0.1", 6543);
  assert.equal(isDriverConnectionNoise(closed), false, "nothing is watched yet");
  const stop = watchDriverConnections(["127.0.0.1"], [6543]);
  try {
    assert.equal(isDriverConnectionNoise(closed), true);
    assert.equal(
      isDriverConnectionNoise(driverError("EPIPE")),
      true,
      "the socket's hang-up inside the driver",
    );
    assert.equal(
      isDriverConnectionNoise(driverError("CONNECTION_CLOSED", "127.0.0.1", 6544)),
      false,
      "another server",
    );
    assert.equal(
      isDriverConnectionNoise(driverError("ECONNRESET", "127.0.0.1", 6543)),
      false,
      "another code",
    );
    assert.equal(
      isDriverConnectionNoise(driverError("CONNECTION_CLOSED", "127.0.0.1", 6543, "app/main.js")),
      false,
      "not made by the driver's connection code",
    );
    assert.equal(isDriverConnectionNoise(new Error("CONNECTION_CLOSED")), false, "a plain error");
    assert.equal(isDriverConnectionNoise("CONNECTION_CLOSED"), false, "not an error");
  } finally {
    stop();
  }
  assert.equal(isDriverConnectionNoise(closed), false, "no longer watched once the client ended");
  stop();
  assert.equal(isDriverConnectionNoise(closed), false, "stopping twice changes nothing");
});

Deno.test("two clients of one server: the address stays watched until both have ended", () => {
  const closed = driverError("CONNECTION_ENDED", "db", 5432);
  const first = watchDriverConnections(["db"], [5432]);
  const second = watchDriverConnections(["db"], [5432]);
  first();
  assert.equal(isDriverConnectionNoise(closed), true);
  second();
  assert.equal(isDriverConnectionNoise(closed), false);
});
