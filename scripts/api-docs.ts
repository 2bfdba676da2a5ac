// Writes docs/api.md: every public name of "hawser" (src/index.ts), "hawser/web" (src/web.ts)
// and "hawser/ws" (src/ws/index.ts), each with its signature and the first sentence of its TSDoc comment, read
// with the TypeScript compiler. Run: npx tsx scripts/api-docs.ts   (--check: fail if stale)
// test/ecosystem/api-docs.test.ts runs --check, so the page cannot drift from the code.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const API_DOC = `${ROOT}docs/api.md`;
const ENTRY_POINTS = [
  { module: "hawser", file: "src/index.ts" },
  { module: "hawser/web", file: "src/web.ts" },
  { module: "hawser/ws", file: "src/ws/index.ts" },
];

const FORMAT = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope;

/** Renders the whole page. */
export function renderApiDocs(): string {
  const program = ts.createProgram(
    ENTRY_POINTS.map((entry) => ROOT + entry.file),
    {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      types: ["node"],
      noEmit: true,
    },
  );
  const checker = program.getTypeChecker();
  let out =
    "# API reference\n\n" +
    "Generated from the TSDoc comments by `npx tsx scripts/api-docs.ts`; a test fails when it is out of date.\n" +
    "Every name below is exported by the module named in its section, for `import` and `require` alike.\n";
  for (const entry of ENTRY_POINTS) {
    const source = program.getSourceFile(ROOT + entry.file);
    if (!source) throw new Error(`Cannot read ${entry.file}.`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`${entry.file} has no exports.`);
    out += `\n## \`${entry.module}\`\n`;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      out += "\n" + renderSymbol(checker, exported);
    }
  }
  return out;
}

function renderSymbol(checker: ts.TypeChecker, exported: ts.Symbol): string {
  const name = exported.getName();
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  // A default export that is also exported by name is described once, under its name.
  if (name === "default" && symbol.getName() !== "default") return `### default\n\nThe default export: \`${symbol.getName()}\`, below.\n`;
  const declaration = symbol.declarations?.[0];
  if (!declaration) return `### ${name}\n`;
  const doc = summary(ts.displayPartsToString(symbol.getDocumentationComment(checker)));
  const docLine = doc ? `\n${doc}\n` : "";
  if (ts.isClassDeclaration(declaration)) {
    const heritage = declaration.heritageClauses?.map((clause) => " " + clause.getText()).join("") ?? "";
    let text = `### class ${name}${heritage}\n${docLine}\n`;
    const members: string[] = [];
    for (const member of declaration.members) {
      if (!isPublic(member)) continue;
      members.push(renderMember(checker, member, name));
      // Constructor parameters declared `readonly x` are properties too.
      if (ts.isConstructorDeclaration(member)) {
        for (const parameter of member.parameters) {
          const flags = ts.getCombinedModifierFlags(parameter);
          if (!(flags & (ts.ModifierFlags.Readonly | ts.ModifierFlags.Public)) || flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
          const paramDoc = summary(
            ts.displayPartsToString(checker.getSymbolAtLocation(parameter.name)?.getDocumentationComment(checker) ?? []) || jsDocText(parameter),
          );
          const type = clean(checker.typeToString(checker.getTypeAtLocation(parameter), undefined, FORMAT));
          members.push(
            "`" + `${flags & ts.ModifierFlags.Readonly ? "readonly " : ""}${parameter.name.getText()}: ${type}` + "`" + (paramDoc ? ` — ${paramDoc}` : ""),
          );
        }
      }
    }
    if (members.length > 0) text += members.map((line) => `- ${line}`).join("\n") + "\n";
    return text;
  }
  if (ts.isInterfaceDeclaration(declaration)) {
    const heritage = declaration.heritageClauses?.map((clause) => " " + clause.getText()).join("") ?? "";
    let text = `### interface ${name}${heritage}\n${docLine}\n`;
    const members = declaration.members
      .filter((member) => !ts.getJSDocTags(member).some((tag) => tag.tagName.text === "internal"))
      .map((member) => renderMember(checker, member, name));
    if (members.length > 0) text += members.map((line) => `- ${line}`).join("\n") + "\n";
    return text;
  }
  if (ts.isFunctionDeclaration(declaration)) {
    const type = checker.getTypeOfSymbol(symbol);
    const signatures = type.getCallSignatures().map((signature) => "`" + clean(`${name}${checker.signatureToString(signature, undefined, FORMAT)}`) + "`");
    // Overloads: the implementation's doc comment says what the function does.
    const implementationDoc = doc || summary(ts.displayPartsToString(type.getCallSignatures().at(-1)?.getDocumentationComment(checker) ?? []));
    return `### function ${name}\n\n${signatures.join("  \n")}\n${implementationDoc ? `\n${implementationDoc}\n` : ""}`;
  }
  if (ts.isTypeAliasDeclaration(declaration)) {
    return `### type ${name}\n\n\`${clean(`type ${name} = ${declaration.type.getText().replace(/\s+/g, " ")}`)}\`\n${docLine}`;
  }
  if (ts.isVariableDeclaration(declaration)) {
    const type = clean(checker.typeToString(checker.getTypeOfSymbol(symbol), undefined, FORMAT));
    const shown = declaration.initializer && ts.isAsExpression(declaration.initializer) ? declaration.initializer.expression.getText() : type;
    return `### const ${name}\n\n\`${name}: ${shown.replace(/\s+/g, " ")}\`\n${docLine}`;
  }
  if (ts.isEnumDeclaration(declaration)) return `### enum ${name}\n${docLine}`;
  return `### ${name}\n${docLine}`;
}

function renderMember(checker: ts.TypeChecker, member: ts.ClassElement | ts.TypeElement, owner: string): string {
  const doc = summary(
    ts.displayPartsToString(
      (member.name ? checker.getSymbolAtLocation(member.name) : checker.getSymbolAtLocation(member))?.getDocumentationComment(checker) ?? [],
    ),
  );
  const suffix = doc ? ` — ${doc}` : "";
  const isStatic = ts.canHaveModifiers(member) && ts.getModifiers(member)?.some((modifier) => modifier.kind === ts.SyntaxKind.StaticKeyword);
  const prefix = isStatic ? `${owner}.` : "";
  if (ts.isConstructorDeclaration(member)) {
    const signature = checker.getSignatureFromDeclaration(member);
    return "`" + clean(`new ${owner}${signature ? checker.signatureToString(signature, undefined, FORMAT) : "()"}`) + "`" + suffix;
  }
  const name = member.name ? member.name.getText() : "";
  if (ts.isMethodDeclaration(member) || ts.isMethodSignature(member)) {
    const signature = checker.getSignatureFromDeclaration(member);
    return "`" + clean(`${prefix}${name}${signature ? checker.signatureToString(signature, undefined, FORMAT) : "()"}`) + "`" + suffix;
  }
  if (ts.isGetAccessorDeclaration(member) || ts.isSetAccessorDeclaration(member)) {
    const type = checker.getTypeAtLocation(member.name);
    return "`" + clean(`${prefix}${name}: ${checker.typeToString(type, undefined, FORMAT)}`) + "`" + suffix;
  }
  const readonly =
    ts.canHaveModifiers(member) && ts.getModifiers(member)?.some((modifier) => modifier.kind === ts.SyntaxKind.ReadonlyKeyword) ? "readonly " : "";
  const optional = "questionToken" in member && member.questionToken ? "?" : "";
  const type = checker.typeToString(checker.getTypeAtLocation(member), undefined, FORMAT);
  return "`" + clean(`${readonly}${prefix}${name}${optional}: ${type}`) + "`" + suffix;
}

/** A parameter's own doc comment (TypeScript attaches it to the parameter's node). */
function jsDocText(node: ts.Node): string {
  return ts
    .getJSDocCommentsAndTags(node)
    .map((doc) => (ts.isJSDoc(doc) && typeof doc.comment === "string" ? doc.comment : ""))
    .join(" ");
}

function isPublic(member: ts.ClassElement): boolean {
  if (ts.getJSDocTags(member).some((tag) => tag.tagName.text === "internal")) return false;
  if (ts.isClassStaticBlockDeclaration(member) || ts.isSemicolonClassElement(member) || ts.isIndexSignatureDeclaration(member)) return false;
  if (member.name && ts.isPrivateIdentifier(member.name)) return false;
  // The implementation of an overloaded method or constructor is not callable as written.
  if ((ts.isMethodDeclaration(member) || ts.isConstructorDeclaration(member)) && member.body && hasOverloads(member)) return false;
  const flags = ts.getCombinedModifierFlags(member as ts.Declaration);
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return false;
  // A setter beside its getter would be listed twice.
  if (ts.isSetAccessorDeclaration(member)) {
    const owner = member.parent;
    const siblings: readonly ts.Node[] = ts.isClassLike(owner) ? owner.members : [];
    const getter = siblings.find((other) => ts.isGetAccessorDeclaration(other) && other.name.getText() === member.name.getText());
    if (getter) return false;
  }
  return true;
}

function hasOverloads(member: ts.MethodDeclaration | ts.ConstructorDeclaration): boolean {
  const owner = member.parent;
  if (!ts.isClassLike(owner)) return false;
  const name = member.name?.getText();
  return owner.members.some(
    (other) =>
      other !== member && other.kind === member.kind && (other as ts.MethodDeclaration).name?.getText() === name && !(other as ts.MethodDeclaration).body,
  );
}

/** The first sentence (or line) of a doc comment, on one line. */
function summary(text: string): string {
  const paragraph = text
    .split(/\n\s*\n/)[0]!
    .replace(/\s+/g, " ")
    .trim();
  // A sentence ends at a period before a capital letter or the end ("e.g. /chat" does not).
  const end = paragraph.search(/\.(?=\s+[A-Z]|$)/);
  return end === -1 ? paragraph : paragraph.slice(0, end + 1);
}

/** Drops `import("...")` qualifiers the checker prints for types from other files. */
function clean(text: string): string {
  return (
    text
      .replace(/import\("[^"]+"\)\./g, "")
      // Node's default type arguments say nothing to a reader.
      .replace(/<typeof IncomingMessage, typeof ServerResponse(, typeof Http2ServerRequest, typeof Http2ServerResponse)?>/g, "")
      .replace(/Buffer<ArrayBufferLike>/g, "Buffer")
      .replace(/ \| undefined(?=[,)])/g, "")
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rendered = renderApiDocs();
  if (process.argv.includes("--check")) {
    const current = readFileSync(API_DOC, "utf8");
    if (current !== rendered) {
      console.error("docs/api.md is out of date: run `npx tsx scripts/api-docs.ts` and commit the result.");
      process.exit(1);
    }
  } else {
    writeFileSync(API_DOC, rendered);
    console.log(`wrote ${API_DOC}`);
  }
}
