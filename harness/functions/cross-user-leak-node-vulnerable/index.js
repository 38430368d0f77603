// VULNERABLE on purpose: one user's data served to another from warm state.
//
// Seed 000 (cold-start security article, "Memory Retention Between
// Invocations"): a module-level cache (here a Map) survives between
// invocations of a warm environment. Its key is the request path alone: the
// caller was forgotten, so whoever asks for a path second gets the profile of
// whoever asked first.
//
// Event:    {user_id, path, display_name, email}
// Response: {user_id, display_name, email, path}, cached by path
'use strict';

const userCache = new Map();

exports.handler = async (event, context) => {
  const key = event.path;
  if (userCache.has(key)) return userCache.get(key);
  const profile = {
    user_id: event.user_id,
    display_name: event.display_name,
    email: event.email,
    path: key,
  };
  userCache.set(key, profile);
  return profile;
};
