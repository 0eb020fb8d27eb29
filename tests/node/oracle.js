'use strict'
// The .npmrc oracle for tests/test_npmrc_oracle.py: npm's own code on the test's inputs.
//
// Reads one JSON request per line on stdin and writes one JSON line per request:
//   {"op": "decode", "cases": [{"text": "...", "env": {...}} | {"base64": "...", "env": {...}}]}
//     -> [{"text": ..., "decoded": V, "config": [[key, V], ...]} | {"text": ..., "error": "..."}]
//   {"op": "charsets"} -> {"space": "...", "not_dot": "..."}
// V is a tagged value so that Python can compare exactly (JSON alone would turn
// Infinity into null and drop undefined): ["string", s], ["number", String(n)],
// ["boolean", b], ["null"], ["undefined"], ["array", [V...]], ["object", [[k, V]...]]
// with object keys in JavaScript's own enumeration order.
//
// `decoded` is require('ini').decode(text), as @npmcli/config's #loadFile calls it
// (ini.parse is the same function). `config` is what #loadObject does with each
// top-level entry of a key that has no type definition:
//   k = envReplace(key, this.env); v = parseField(value, k, this)
// using npm's real env-replace.js and parse-field.js. npm passes process.env as `env`,
// and process.env is not a plain object (`${toString}` finds an inherited function),
// so each case's env is installed into the real process.env.
// `base64` input is decoded the way npm's readFile(file, 'utf8') decodes a file.

const readline = require('node:readline')
const ini = require('ini')
const envReplace = require('@npmcli/config/lib/env-replace.js')
const parseField = require('@npmcli/config/lib/parse-field.js')

const parseFieldOptions = {
  types: {},
  env: process.env,
  platform: process.platform,
  home: '/home/x',
}

const tag = (value) => {
  if (value === undefined) {
    return ['undefined']
  }
  if (value === null) {
    return ['null']
  }
  switch (typeof value) {
    case 'string':
      return ['string', value]
    case 'number':
      return ['number', String(value)]
    case 'boolean':
      return ['boolean', value]
    case 'object':
      if (Array.isArray(value)) {
        if (value.length > 100000) {
          // `[arr]` then `length=4294967295` makes a sparse array: too long to list.
          return ['long-array', String(value.length)]
        }
        // Array.from reads holes as undefined; extra non-index properties are not shown.
        return ['array', Array.from(value, tag)]
      }
      return ['object', Object.keys(value).map((k) => [k, tag(value[k])])]
    default:
      return ['other', typeof value, String(value)]
  }
}

const setEnv = (env) => {
  for (const name of Object.keys(process.env)) {
    delete process.env[name]
  }
  for (const [name, value] of Object.entries(env || {})) {
    process.env[name] = value
  }
}

const runCase = ({ text, base64, env }) => {
  if (base64 !== undefined) {
    text = Buffer.from(base64, 'base64').toString('utf8')
  }
  setEnv(env)
  let decoded
  try {
    decoded = ini.decode(text)
  } catch (error) {
    return { text, error: `${error.name}: ${error.message}` }
  }
  const config = Object.entries(decoded).map(([key, value]) => {
    const k = envReplace(key, process.env)
    return [k, tag(parseField(value, k, parseFieldOptions))]
  })
  return { text, decoded: tag(decoded), config }
}

const charsets = () => {
  let space = ''
  let notDot = ''
  for (let code = 0; code < 0x10000; code++) {
    const char = String.fromCharCode(code)
    if (/\s/.test(char)) {
      space += char
    }
    if (!/./.test(char)) {
      notDot += char
    }
    // trim() and \s must agree, or the parser's single set is wrong.
    if ((char.trim() === '') !== /\s/.test(char)) {
      throw new Error(`trim and \\s disagree on U+${code.toString(16)}`)
    }
  }
  return { space, not_dot: notDot }
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
lines.on('line', (line) => {
  const request = JSON.parse(line)
  let reply
  if (request.op === 'decode') {
    reply = request.cases.map(runCase)
  } else if (request.op === 'charsets') {
    reply = charsets()
  } else {
    reply = { error: `unknown op ${request.op}` }
  }
  process.stdout.write(JSON.stringify(reply) + '\n')
})
