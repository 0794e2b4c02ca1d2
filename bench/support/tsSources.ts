/**
 * Lets a bench import a package's TypeScript sources directly (no build):
 * a resolve hook maps the sources' `./X.js` imports to `./X.ts`. Import it
 * first; import the sources after it (dynamically).
 */
import { registerHooks } from "node:module"

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context)
    } catch (error) {
      if (specifier.startsWith(".") && specifier.endsWith(".js") && context.parentURL?.endsWith(".ts")) {
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context)
      }
      throw error
    }
  }
})
