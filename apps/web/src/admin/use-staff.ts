import { useMemo } from "react";
import { useSession } from "../lib/session.js";
import { type Permission, permissionsOf } from "./permissions.js";
import type { StaffMe } from "./types.js";

/** The logged-in back-office user and what their role may do. */
export function useStaff() {
  const { session } = useSession<StaffMe>();
  const me = session?.me ?? null;
  const perms = useMemo(() => (me ? permissionsOf(me) : new Set<string>()), [me]);
  const can = (p: Permission) => perms.has(p);
  return { me, can };
}
