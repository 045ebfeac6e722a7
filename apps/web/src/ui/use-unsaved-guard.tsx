import { Button, Group, Modal, Text } from "@mantine/core";
import { type ReactNode, useCallback, useEffect, useRef } from "react";
import { type BlockerFunction, useBlocker } from "react-router";
import { t } from "../i18n/index.js";

/**
 * Asks before a form with unsaved changes is left: in-app links and the browser's back and
 * forward (the data router's blocker, answered in a modal), and tab close or reload
 * (`beforeunload`, whose wording the browser chooses). Render `prompt` inside the page.
 * `release()` lets every later navigation through: call it before navigating away after a save.
 */
export function useUnsavedGuard(dirty: boolean): { prompt: ReactNode; release: () => void } {
  const dirtyRef = useRef(dirty);
  const released = useRef(false);
  useEffect(() => {
    dirtyRef.current = dirty;
  }, [dirty]);

  // A change of search or hash keeps the page, and the form, where they are.
  const shouldBlock = useCallback<BlockerFunction>(
    ({ currentLocation, nextLocation }) =>
      dirtyRef.current && !released.current && currentLocation.pathname !== nextLocation.pathname,
    [],
  );
  const blocker = useBlocker(shouldBlock);

  useEffect(() => {
    if (!dirty) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (released.current) return;
      e.preventDefault();
      // Browsers before Chrome 119 ask only when returnValue is set.
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => window.removeEventListener("beforeunload", onBeforeUnload);
  }, [dirty]);

  const stay = () => blocker.reset?.();
  const leave = () => blocker.proceed?.();
  const prompt = (
    <Modal opened={blocker.state === "blocked"} onClose={stay} title={t("form.unsaved.title")} centered>
      <Text size="sm">{t("form.unsaved.text")}</Text>
      <Group justify="flex-end" mt="md">
        <Button variant="default" onClick={stay} data-autofocus>
          {t("form.unsaved.stay")}
        </Button>
        <Button color="red" onClick={leave}>
          {t("form.unsaved.leave")}
        </Button>
      </Group>
    </Modal>
  );
  const release = useCallback(() => {
    released.current = true;
  }, []);
  return { prompt, release };
}
