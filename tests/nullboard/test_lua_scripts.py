"""Lua scripts run by EVALSHA; a server that lost its script cache (restarted,
flushed, or a replica just promoted) runs the script by EVAL, which caches it
there again, instead of a SCRIPT LOAD that a cluster client sends to every master."""

from __future__ import annotations

from nullboard import redis_utils
from nullboard.redis_utils import LuaScript

COUNT = LuaScript("redis.call('expire', KEYS[1], 60) return redis.call('incr', KEYS[1])")
KEY = redis_utils.key("test", "lua")


def test_a_script_runs_again_after_the_server_forgot_it(real_redis):
    assert COUNT([KEY], []) == 1
    real_redis.script_flush()
    assert COUNT([KEY], []) == 2
    assert real_redis.script_exists(COUNT.sha) == [True]  # cached again: EVALSHA next


async def test_the_async_call_runs_it_again_too(real_redis):
    real_redis.script_flush()
    assert await COUNT.acall([KEY], []) == 1
    assert await COUNT.acall([KEY], []) == 2
    assert real_redis.script_exists(COUNT.sha) == [True]
