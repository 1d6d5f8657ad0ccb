import { describe, expect, it } from "@jest/globals";
import { sanitize } from "../../shared/sanitize/index.js";

/** Each listed value is gone, replaced by a marker of `kind`. */
function expectGone(text: string, values: string[], kind: string): void {
  const out = sanitize(text);
  for (const v of values) expect(out).not.toContain(v);
  expect(out).toContain(`[REDACTED:${kind}]`);
}

describe("sanitize: contact details", () => {
  it("e-mail addresses, including plus tags, subdomains and mailto:", () => {
    expect(sanitize("reach amelie.durand+tickets@mail.tailspin.example or mailto:k.oyelaran@woodgrove.example.")).toBe(
      "reach [REDACTED:email] or mailto:[REDACTED:email].",
    );
  });

  it.each([
    ["+44 7700 900123"],
    ["+44 (0)20 7946 0321"],
    ["+33 6 12 34 56 78"],
    ["+49 89 1234567"],
    ["+91 98765 43210"],
    ["+1 (415) 555-0132"],
    ["+1-206-555-0188"],
    ["+61 2 9876 5432"],
    ["+14155550199"],
    ["(503) 555-0176"],
    ["503-555-0176"],
    ["503.555.0176"],
    ["1-800-555-0199"],
  ])("phone %s", (phone) => {
    expect(sanitize(`call ${phone} today`)).toBe("call [REDACTED:phone] today");
  });

  it("a phone number followed by other digits keeps to its own length", () => {
    const out = sanitize("+33 6 12 34 56 78 4111111111111111");
    expect(out).toBe("[REDACTED:phone] [REDACTED:card]");
  });

  it("labelled local-format phone numbers", () => {
    expect(sanitize("tel: 020 7946 0321, mobile 06 12 34 56 78")).toBe("tel: [REDACTED:phone], mobile [REDACTED:phone]");
  });

  it("addresses: IPv4 with valid octets, IPv6 full and compressed", () => {
    expect(sanitize("client 203.0.113.77 via 2001:db8:85a3::8a2e:370:7334 and fe80:0:0:0:204:61ff:fe9d:f156")).toBe(
      "client [REDACTED:ip] via [REDACTED:ip] and [REDACTED:ip]",
    );
    expect(sanitize("from 198.51.100.23:50321.")).toBe("from [REDACTED:ip]:50321.");
  });
});

describe("sanitize: checksummed and national numbers", () => {
  it("card numbers that pass Luhn, in the printed layouts", () => {
    expectGone("visa 4012 8888 8888 1881 mc 5105-1051-0510-5100 amex 3714 496353 98431 plain 6011000990139424", [
      "4012 8888 8888 1881",
      "5105-1051-0510-5100",
      "3714 496353 98431",
      "6011000990139424",
    ], "card");
  });

  it("no card where Luhn fails, the issuer is impossible or the layout is not a card's", () => {
    for (const text of ["ref 4012 8888 8888 1882", "epoch 1717171717171", "ids 4012 88 88888 81881", "20260917185239123"]) {
      expect(sanitize(text)).toBe(text);
    }
  });

  it("IBANs validated by mod-97, with or without spaces; invalid ones stay", () => {
    expectGone("pay GB33BUKB20201555555555 or FR14 2004 1010 0505 0001 3M02 606 or NL02ABNA0123456789", [
      "GB33BUKB20201555555555",
      "FR14 2004 1010 0505 0001 3M02 606",
      "NL02ABNA0123456789",
    ], "iban");
    expect(sanitize("not GB34BUKB20201555555555")).toBe("not GB34BUKB20201555555555");
  });

  it("US SSNs with separators, labelled SSNs, UK NINOs, labelled national IDs", () => {
    expect(sanitize("ssn 536-90-4399")).toBe("ssn [REDACTED:ssn]");
    expect(sanitize("SSN: 536904399")).toBe("SSN: [REDACTED:ssn]");
    expect(sanitize("NI number AB 12 34 56 C")).toContain("[REDACTED:national-id]");
    expect(sanitize("NINO JT123456A")).toBe("NINO [REDACTED:national-id]");
    expect(sanitize("passport no. 533380006")).toBe("passport no. [REDACTED:national-id]");
    expect(sanitize("CPF 529.982.247-25")).toBe("CPF [REDACTED:national-id]");
  });

  it("numbers that are not SSNs: never-issued areas, dates", () => {
    for (const text of ["code 000-12-3456", "code 666-12-3456", "on 2026-03-15"]) expect(sanitize(text)).toBe(text);
  });
});

describe("sanitize: person names in obvious places", () => {
  it("JSON name fields only when the value looks like a person's name", () => {
    expect(sanitize('{"customer_name": "Ingrid Solberg", "name": "get_weather", "agent": {"name": "Support Agent"}}')).toBe(
      '{"customer_name": "[REDACTED:name]", "name": "get_weather", "agent": {"name": "Support Agent"}}',
    );
    expect(sanitize('{"name": "Tomás O\'Neill", "first_name": "Kenji"}')).toBe('{"name": "[REDACTED:name]", "first_name": "[REDACTED:name]"}');
  });

  it("labels, greetings, sign-offs and mail headers", () => {
    expect(sanitize("customer: Aisha Bello opened it")).toBe("customer: [REDACTED:name] opened it");
    expect(sanitize("Dear Mr Okafor, your run failed")).toBe("Dear [REDACTED:name], your run failed");
    expect(sanitize("Hello Lena,")).toBe("Hello [REDACTED:name],");
    expect(sanitize("Kind regards,\nSven Lindqvist")).toBe("Kind regards,\n[REDACTED:name]");
    expect(sanitize('From: "Ravi Kumar" <ravi.k@fourthcoffee.example>')).toBe('From: "[REDACTED:name]" <[REDACTED:email]>');
    expect(sanitize("my name is Zoë Adeyemi")).toBe("my name is [REDACTED:name]");
  });

  it("no name where the words are roles, teams or lower case", () => {
    for (const text of ["Hi Team,", "Dear Customer,", "Hello there", "name: crm_search", "customer: unknown", "Regards,\nthe platform team"]) {
      expect(sanitize(text)).toBe(text);
    }
  });
});
