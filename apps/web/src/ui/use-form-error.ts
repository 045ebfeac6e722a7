import type { ReactNode } from "react";
import { useCallback, useEffect, useState } from "react";

/**
 * The save bar's summary message ("Some fields need fixing") of a form: shown only while a field
 * still has an error, so it goes once they are fixed; setting it scrolls to the first field in
 * error and focuses it.
 */
export function useFormError(errors: Record<string, ReactNode>): {
  formError: string | null;
  setFormError: (message: string | null) => void;
} {
  const [message, setMessage] = useState<string | null>(null);
  const invalid = Object.values(errors).some((e) => e !== undefined && e !== null && e !== false && e !== "");
  useEffect(() => {
    if (!invalid) setMessage(null);
  }, [invalid]);
  const setFormError = useCallback((next: string | null) => {
    setMessage(next);
    if (next) revealFirstError();
  }, []);
  return { formError: invalid ? message : null, setFormError };
}

/** After the errors render: the first input marked invalid, in page order, centred and focused. */
function revealFirstError(): void {
  requestAnimationFrame(() => {
    const first = document.querySelector<HTMLElement>('[aria-invalid="true"]');
    if (!first) return;
    first.scrollIntoView({ block: "center" });
    first.focus({ preventScroll: true });
  });
}
