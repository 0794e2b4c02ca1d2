/**
 * `npm run scheduler -w @omnipost/bench` (needs DATABASE_URL): scheduler throughput
 * and lag beside graphile-worker and pg-boss. The benchmark lives beside the
 * worker it drives (packages/worker/bench/scheduler.ts, which spawns the
 * worker's own entry and the competitors' child processes); this is its entry.
 */
import "../packages/worker/bench/scheduler.ts"
