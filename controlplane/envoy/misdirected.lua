-- Isobar's misdirected request check, the default script of a Lua HTTP
-- filter placed first in the connection manager of a wildcard TLS host
-- (*.example.com). Its filter chain takes every server name under the
-- wildcard, and so does its virtual host, so nothing else notices a
-- request for b.example.com sent on a connection opened for
-- a.example.com. The script compares the request's host (lower case,
-- without a port) with the connection's TLS server name (lower case) and
-- answers 421 Misdirected Request when they differ, so that an HTTP/2
-- client that reused a connection for another name retries on a new one
-- (RFC 9110, section 15.5.20). The body is that of the catch-all virtual
-- host answering 421 in every https/<fqdn> route configuration.
--
-- Envoy API used: handle:headers():get(":authority"),
-- handle:streamInfo():requestedServerName() and handle:respond(), all
-- long-standing. LuaJIT, so Lua 5.1.

function envoy_on_request(handle)
  local host = string.lower(handle:headers():get(":authority") or "")
  -- A port is what follows the last colon, unless a "]" does (the end of
  -- an IPv6 literal, which has colons of its own).
  local colon = string.find(host, ":[^:%]]*$")
  if colon ~= nil then
    host = string.sub(host, 1, colon - 1)
  end
  local sni = string.lower(handle:streamInfo():requestedServerName() or "")
  if host ~= sni then
    handle:respond({[":status"] = "421", ["content-type"] = "text/plain"},
      "misdirected request: the Host does not match the TLS server name\n")
  end
end
