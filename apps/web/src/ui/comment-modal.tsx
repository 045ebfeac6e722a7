import { Button, Group, Stack, Text, Textarea } from "@mantine/core";
import { modals } from "@mantine/modals";
import { type ReactNode, useState } from "react";
import { t } from "../i18n/index.js";
import { errorMessage } from "./feedback.js";

function CommentForm(props: {
  text: ReactNode;
  fieldLabel?: string;
  confirmLabel: string;
  color: string;
  onConfirm: (comment: string) => Promise<void>;
  onClose: () => void;
}) {
  const [comment, setComment] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    if (!comment.trim()) {
      setError(t("validation.required"));
      return;
    }
    setBusy(true);
    try {
      await props.onConfirm(comment.trim());
      props.onClose();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Stack gap="sm">
      {typeof props.text === "string" ? <Text size="sm">{props.text}</Text> : props.text}
      <Textarea
        label={props.fieldLabel ?? t("field.comment")}
        withAsterisk
        autosize
        minRows={2}
        maxLength={500}
        value={comment}
        onChange={(e) => {
          setComment(e.currentTarget.value);
          setError(null);
        }}
        error={error}
        data-autofocus
      />
      <Group justify="flex-end">
        <Button variant="default" onClick={props.onClose}>
          {t("common.cancel")}
        </Button>
        <Button color={props.color} loading={busy} onClick={() => void submit()}>
          {props.confirmLabel}
        </Button>
      </Group>
    </Stack>
  );
}

/** A confirmation dialog that needs a comment (manual approve/reject, review resolutions). */
export function openCommentModal(opts: {
  title: string;
  text: ReactNode;
  /** The field's label (default "Comment"; the operator's console asks for a reason). */
  fieldLabel?: string;
  confirmLabel: string;
  color?: string;
  onConfirm: (comment: string) => Promise<void>;
}): void {
  const id = modals.open({
    title: opts.title,
    children: (
      <CommentForm
        text={opts.text}
        fieldLabel={opts.fieldLabel}
        confirmLabel={opts.confirmLabel}
        color={opts.color ?? "brand"}
        onConfirm={opts.onConfirm}
        onClose={() => modals.close(id)}
      />
    ),
  });
}
