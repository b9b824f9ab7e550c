// Checks what Roster's SCIM service answered against RFC 7643's schemas as SCIMMY holds
// them, and evaluates filters with SCIMMY's own filter implementation. Reads one JSON
// document on standard input: {"checks": [{"kind", "body", "filter", "ids"}]}; prints one
// JSON line per check: {"i", "ok", "error"}.
import SCIMMY from "scimmy";

SCIMMY.Schemas.User.extend(SCIMMY.Schemas.EnterpriseUser, false);

const scimTypes = new Set(["invalidFilter", "tooMany", "uniqueness", "mutability", "invalidSyntax", "invalidPath",
  "noTarget", "invalidValue", "invalidVers", "sensitive"]);

function check(c) {
  switch (c.kind) {
    case "User":
      SCIMMY.Schemas.User.definition.coerce(c.body, "out");
      return;
    case "Group":
      SCIMMY.Schemas.Group.definition.coerce(c.body, "out");
      return;
    case "UserList":
    case "GroupList": {
      new SCIMMY.Messages.ListResponse(c.body);
      const def = c.kind === "UserList" ? SCIMMY.Schemas.User.definition : SCIMMY.Schemas.Group.definition;
      for (const r of c.body.Resources) def.coerce(r, "out");
      return;
    }
    case "Error": {
      const b = c.body;
      if (JSON.stringify(b.schemas) !== JSON.stringify(["urn:ietf:params:scim:api:messages:2.0:Error"])) throw new Error("schemas " + JSON.stringify(b.schemas));
      if (typeof b.status !== "string" || !/^[45]\d\d$/.test(b.status)) throw new Error("status must be a string of a 4xx or 5xx code: " + JSON.stringify(b.status));
      if (b.scimType !== undefined && !scimTypes.has(b.scimType)) throw new Error("scimType " + b.scimType + " is not one of RFC 7644's");
      return;
    }
    case "Filter": {
      // The IDs SCIMMY's filter selects from every resource must be the ones Roster selected.
      const want = new SCIMMY.Types.Filter(c.filter).match(c.body).map((r) => r.id).sort();
      const got = [...c.ids].sort();
      if (JSON.stringify(want) !== JSON.stringify(got)) throw new Error(`filter ${c.filter}: SCIMMY selects ${want}, Roster ${got}`);
      return;
    }
    case "PatchOp":
      new SCIMMY.Messages.PatchOp(c.body);
      return;
  }
  throw new Error("unknown kind " + c.kind);
}

let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const { checks } = JSON.parse(input);
  checks.forEach((c, i) => {
    try {
      check(c);
      process.stdout.write(JSON.stringify({ i, ok: true }) + "\n");
    } catch (e) {
      process.stdout.write(JSON.stringify({ i, ok: false, error: String(e && e.message) }) + "\n");
    }
  });
});
