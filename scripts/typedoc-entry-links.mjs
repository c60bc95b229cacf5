// @ts-check
/**
 * TypeDoc plugin (loaded by typedoc.json): resolves a `{@link Name}` that TypeDoc could not
 * resolve in the entry point where it is shown, against the exports of the other entry points.
 *
 * Why: a class in one entry point can inherit members, and their comments, from an internal base
 * written for another. `JoinShortestQueue` (`loadwise/sim`) extends the shared balancer base, so
 * its `pick` and `reportHealth` carry comments such as "{@link HealthChecker} calls this", and
 * TypeDoc resolves those names in `loadwise/sim`, which does not export them. This pass runs
 * after TypeDoc's own link resolution and touches only links left unresolved: a name (or dotted
 * path) found in exactly one other entry point links there; anything else stays unresolved, so
 * TypeDoc's link validation still reports it.
 */
import { Converter, Reflection, ReflectionKind } from 'typedoc';

const LINK_TAGS = ['@link', '@linkcode', '@linkplain'];

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(
    Converter.EVENT_RESOLVE_END,
    (context) => {
      const project = context.project;
      const modules = (project.children ?? []).filter((c) => c.kindOf(ReflectionKind.Module));
      for (const reflection of Object.values(project.reflections)) {
        const comment = reflection.comment;
        if (comment === undefined) continue;
        const home = moduleOf(reflection);
        for (const parts of [comment.summary, ...comment.blockTags.map((tag) => tag.content)]) {
          for (const part of parts) {
            if (part.kind !== 'inline-tag' || !LINK_TAGS.includes(part.tag)) continue;
            if (typeof part.target === 'string' || part.target instanceof Reflection) continue;
            const m = /^\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*(?:\|\s*)?(.*)$/s.exec(part.text);
            if (m === null) continue;
            const path = m[1].split('.');
            const found = modules
              .filter((mod) => mod !== home)
              .map((mod) => mod.getChildByName(path))
              .filter((r) => r !== undefined);
            if (found.length !== 1) continue;
            part.target = found[0];
            part.text = m[2].trim() || m[1];
          }
        }
      }
    },
    // after TypeDoc's LinkResolverPlugin (-300), before validation
    -400,
  );
}

/**
 * @param {Reflection} reflection
 * @returns {Reflection | undefined}
 */
function moduleOf(reflection) {
  /** @type {Reflection | undefined} */
  let r = reflection;
  while (r !== undefined && !r.kindOf(ReflectionKind.Module)) r = r.parent;
  return r;
}
