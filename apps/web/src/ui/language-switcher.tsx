import { Box, Button, Menu } from "@mantine/core";
import { offeredLocales, setLocale, t, useLocale } from "../i18n/index.js";
import { LOCALES } from "../i18n/locales.js";

function IconLanguage({ size = 16 }: { size?: number }) {
  return (
    <svg
      xmlns="http://www.w3.org/2000/svg"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
    >
      <circle cx="12" cy="12" r="9" />
      <path d="M3.6 9h16.8M3.6 15h16.8M11.5 3a17 17 0 0 0 0 18M12.5 3a17 17 0 0 1 0 18" />
    </svg>
  );
}

/**
 * The language menu: each language under its own name (a reader finds "العربية" in any
 * dictionary). The choice applies at once and is remembered. Nothing when the app offers one.
 */
export function LanguageSwitcher() {
  const current = useLocale();
  const offered = offeredLocales();
  if (offered.length < 2) return null;
  const name = LOCALES[current].nativeName;
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <Button
          variant="subtle"
          color="gray"
          size="compact-sm"
          leftSection={<IconLanguage />}
          aria-label={t("language.current", { name })}
          data-testid="language-switcher"
        >
          {/* On a phone the globe alone: the header keeps its room for the company's name. */}
          <Box component="span" visibleFrom="xs">
            {name}
          </Box>
        </Button>
      </Menu.Target>
      <Menu.Dropdown aria-label={t("language.label")}>
        {offered.map((tag) => (
          <Menu.Item
            key={tag}
            lang={LOCALES[tag].htmlLang}
            dir={LOCALES[tag].dir}
            aria-current={tag === current ? "true" : undefined}
            fw={tag === current ? 700 : undefined}
            onClick={() => setLocale(tag)}
          >
            {LOCALES[tag].nativeName}
          </Menu.Item>
        ))}
      </Menu.Dropdown>
    </Menu>
  );
}
