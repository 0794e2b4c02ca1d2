/**
 * Runs a migration's DDL one statement at a time. `@effect/sql-pg` speaks only
 * the extended query protocol, where a statement is one command, so a script
 * is split at each `;` that ends a line (no statement here has one inside a
 * string literal or a function body).
 */
import { Effect } from "effect"
import type { SqlClient } from "effect/sql"

export const runStatements = (sql: SqlClient.SqlClient, script: string) =>
  Effect.forEach(
    script.split(/;[ \t]*(?:\r?\n|$)/).map((s) => s.trim()).filter((s) => s.replace(/--[^\n]*/g, "").trim() !== ""),
    (statement) => sql.unsafe(statement).unprepared,
    { discard: true }
  )
