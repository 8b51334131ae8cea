// Process figures from Linux's /proc for the benches: which processes serve (by command name,
// optionally only this process's children), their CPU time and resident memory.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));

/** The fields of /proc/PID/stat after the command's closing parenthesis (state is [0]). */
function stat(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/** Processes whose command line contains `name`; with `children`, only this process's. */
export function pidsOf(name, { children = false } = {}) {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(name)) return false;
        return !children || Number(stat(pid)[1]) === process.pid;
      } catch {
        return false; // gone meanwhile
      }
    });
}

/** CPU milliseconds (user + system, every thread) used so far by `pids`. */
export function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = stat(pid);
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {}
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

/** Resident memory of `pids`, MiB. */
export function rssMiB(pids) {
  let kib = 0;
  for (const pid of pids) {
    try {
      kib += Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
    } catch {}
  }
  return kib / 1024;
}
