-- pipeline.lua: wrk sends DEPTH requests (default 16) in each write, pipelined on one connection, and wrk counts
-- each response. Usage: wrk -s pipeline.lua URL -- [DEPTH]
local depth = 16

init = function(args)
   depth = tonumber(args[1]) or depth
   local reqs = {}
   for i = 1, depth do
      reqs[i] = wrk.format(nil, nil)
   end
   req = table.concat(reqs)
end

request = function()
   return req
end
