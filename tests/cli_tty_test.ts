/**
 * The progress line under a real pseudo-terminal 50 columns wide (util-linux `script`
 * gives the CLI a terminal; `stty cols 50` sets its width).
 */
import assert from "node:assert/strict";
import { EventStore } from "../mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { PermissiveEvents } from "../cli/_permissive_events.ts";
import { ROOT, tempDir } from "../cli/_test_helpers.ts";
import { requireHost, terminalNeed } from "./_host_tools.ts";

const COLUMNS = 50;
const EVENTS = 100_000;

const terminal = terminalNeed();

async function seed(path: string): Promise<void> {
  await using store = new EventStore({
    adapter: new SqliteAdapter(path),
    events: new PermissiveEvents(),
    unknownEvents: "pass",
  });
  for (let done = 0; done < EVENTS; done += 5000) {
    const batch = [];
    for (let i = done; i < done + 5000; i++) {
      batch.push(store.event({ type: "tick", stream: `s-${i % 1000}`, data: { i } } as never));
    }
    await store.pushManyEvents(batch);
  }
}

Deno.test({
  name:
    `cli: the progress line fits a 50-column terminal, shows an ETA only once a rate is known, and is full only at 100%${terminal.note}`,
  ignore: terminal.ignore,
  fn: async () => {
    requireHost(terminal);
    await using dir = await tempDir();
    const path = `${dir.path}/e.db`;
    await seed(path);
    const command =
      `stty cols ${COLUMNS} rows 20; exec '${Deno.execPath()}' run -A cli/mod.ts verify --store 'sqlite:${path}'`;
    const started = performance.now();
    const child = new Deno.Command("script", {
      args: ["-qfec", command, "/dev/null"],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", TERM: "xterm" },
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const { code, stdout } = await child.output();
    clearTimeout(timer);
    const ms = performance.now() - started;
    assert.equal(code, 0, new TextDecoder().decode(stdout));
    // Every redraw starts with \r and clears the line; a frame is what lies between.
    const frames = new TextDecoder().decode(stdout).replaceAll("\x1b[K", "").split(/[\r\n]/)
      .filter((frame) => frame.startsWith("verify ["));
    assert(frames.length >= 3, `frames: ${JSON.stringify(frames)}`);
    for (const frame of frames) {
      assert(frame.length < COLUMNS, `a frame wider than ${COLUMNS - 1} columns: ${JSON.stringify(frame)}`);
    }
    assert.doesNotMatch(frames[0], /ETA/, "no ETA before a rate is known");
    const firstEta = frames.findIndex((frame) => frame.includes("ETA"));
    assert(firstEta === -1 || firstEta >= 4, `ETA first in frame ${firstEta}: ${JSON.stringify(frames)}`);
    if (ms > 3000) assert(firstEta !== -1, `a ${Math.round(ms)} ms run shows an ETA at some point`);
    for (const frame of frames) {
      const bar = /\[(#*)(-*)\]/.exec(frame);
      const counts = /([\d,]+)\/([\d,]+)/.exec(frame);
      assert(bar !== null && counts !== null, frame);
      if (bar[2] === "") {
        assert.equal(counts[1], counts[2], `a full bar before the end: ${frame}`);
        assert.match(frame, /100%/);
      }
    }
  },
});
