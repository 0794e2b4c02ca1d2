/** TikTok's answer shape, for the fake: `data`, and `error: { code, message, log_id }` (`ok` on success). */
let logs = 0

/** A fresh `log_id`, as TikTok gives one on every answer (support asks for it). */
export const logId = (): string => `20261202${String(++logs).padStart(8, "0")}`

export const answer = (status: number, code: string, message: string, data: unknown = {}) => ({
  status,
  headers: { "content-type": "application/json; charset=UTF-8" },
  body: { data, error: { code, message, log_id: logId() } }
})
