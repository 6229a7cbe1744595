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

Deno.test("the driver guard marks only postgres.js connection errors to watched addresses as handled", () => {
  const closed = driverError("CONNECTION_CLOSED", "127.0.0.1", 6543);
  assert.equal(isDriverConnectionNoise(closed), false, "nothing is watched yet");
  assert.equal(isDriverConnectionNoise(driverError("EPIPE")), false, "not even a hang-up inside the driver");
  watchDriverConnections(["127.0.0.1"], [6543]);
  assert.equal(isDriverConnectionNoise(closed), true);
  assert.equal(isDriverConnectionNoise(driverError("EPIPE")), true, "the socket's hang-up inside the driver");
  assert.equal(
    isDriverConnectionNoise(driverError("CONNECTION_CLOSED", "127.0.0.1", 6544)),
    false,
    "another server",
  );
  assert.equal(isDriverConnectionNoise(driverError("ECONNRESET", "127.0.0.1", 6543)), false, "another code");
  assert.equal(
    isDriverConnectionNoise(driverError("CONNECTION_CLOSED", "127.0.0.1", 6543, "app/main.js")),
    false,
    "not made by the driver's connection code",
  );
  // A connection closed with queries in flight: the driver has dropped its socket, and the
  // error names the client's hosts and ports (arrays).
  const gone = Object.assign(driverError("CONNECTION_CLOSED"), { address: ["127.0.0.1"], port: [6543] });
  assert.equal(isDriverConnectionNoise(gone), true, "hosts and ports of the client");
  const elsewhere = Object.assign(driverError("CONNECTION_CLOSED"), { address: ["127.0.0.1"], port: [6544] });
  assert.equal(isDriverConnectionNoise(elsewhere), false, "another client's");
  assert.equal(isDriverConnectionNoise(new Error("CONNECTION_CLOSED")), false, "a plain error");
  assert.equal(isDriverConnectionNoise("CONNECTION_CLOSED"), false, "not an error");
  watchDriverConnections(["/run/postgresql"], [5432]);
  assert.equal(
    isDriverConnectionNoise(driverError("CONNECTION_ENDED", "/run/postgresql")),
    true,
    "a socket path",
  );
});
