-- Isobar's cookie rewrite script, run by Envoy's Lua HTTP filter for the
-- routes (weighted clusters) whose LuaPerRoute names it. Their filter
-- context holds cookie_rewrite_rules: cookie name -> {Path, Domain,
-- SameSite (strings), Secure (boolean)}, each optional. For every
-- Set-Cookie response header setting a cookie with rules, the script
-- replaces the named attributes where they are (matching attribute names
-- without regard to case, as browsers do), adds those that are missing,
-- removes Secure when Secure is false, and keeps everything else as the
-- upstream wrote it. Headers of other cookies are not touched.
--
-- Envoy API used: handle:filterContext() and its :get(), with
-- LuaPerRoute.filter_context, the newest part: absent from Envoy 1.32's
-- API, present in 1.37 (Contour's Envoy when it moved its script to them),
-- and not in the release notes of 1.36 or 1.37, so added in 1.33 to 1.35
-- (the exact release is not pinned here). Also handle:headers() with
-- :getNumValues(), :getAtIndex() (0-based), :remove() and :add(), older.
-- LuaJIT, so Lua 5.1: no goto, no integer division.

local function trim(s)
  return (string.gsub(s, "^%s*(.-)%s*$", "%1"))
end

-- attribute_text renders the replacement of the attribute named by the
-- lower-case key, or nil to drop it; false means "no rule for it".
local function attribute_text(rule, key)
  if key == "path" and rule.Path ~= nil then
    return "Path=" .. rule.Path
  elseif key == "domain" and rule.Domain ~= nil then
    return "Domain=" .. rule.Domain
  elseif key == "samesite" and rule.SameSite ~= nil then
    return "SameSite=" .. rule.SameSite
  elseif key == "secure" and rule.Secure ~= nil then
    if rule.Secure then
      return "Secure"
    end
    return nil
  end
  return false
end

local attribute_order = { "path", "domain", "secure", "samesite" }

-- rewrite returns the Set-Cookie value with rules applied, or nil when no
-- rule names its cookie.
local function rewrite(value, rules)
  local semicolon = string.find(value, ";", 1, true)
  local pair, rest = value, ""
  if semicolon ~= nil then
    pair, rest = string.sub(value, 1, semicolon - 1), string.sub(value, semicolon + 1)
  end
  local equals = string.find(pair, "=", 1, true)
  if equals == nil then
    return nil
  end
  local rule = rules[trim(string.sub(pair, 1, equals - 1))]
  if type(rule) ~= "table" then
    return nil
  end
  local parts = { trim(pair) }
  local done = {}
  for attribute in string.gmatch(rest, "[^;]+") do
    local text = trim(attribute)
    if text ~= "" then
      local key = string.lower(trim(string.match(text, "^[^=]*")))
      local replacement = attribute_text(rule, key)
      if replacement == false then
        table.insert(parts, text)
      elseif not done[key] then
        done[key] = true
        if replacement ~= nil then
          table.insert(parts, replacement)
        end
      end
    end
  end
  for _, key in ipairs(attribute_order) do
    if not done[key] then
      local addition = attribute_text(rule, key)
      if addition then
        table.insert(parts, addition)
      end
    end
  end
  return table.concat(parts, "; ")
end

function envoy_on_response(response_handle)
  local context = response_handle:filterContext()
  if context == nil then
    return
  end
  local rules = context:get("cookie_rewrite_rules")
  if type(rules) ~= "table" then
    return
  end
  local headers = response_handle:headers()
  local count = headers:getNumValues("set-cookie")
  if count == 0 then
    return
  end
  local values, changed = {}, false
  for i = 0, count - 1 do
    local value = headers:getAtIndex("set-cookie", i)
    local rewritten = rewrite(value, rules)
    if rewritten ~= nil then
      value, changed = rewritten, true
    end
    values[i + 1] = value
  end
  if not changed then
    return
  end
  headers:remove("set-cookie")
  for _, value in ipairs(values) do
    headers:add("set-cookie", value)
  end
end
