// HARDENED twin of cross-user-leak-node-vulnerable.
//
// Follows seed 001 ("In-memory data": avoid global or static variables for
// sensitive information) and seed 000's "Memory Cleanup": no user data at
// module level; each profile is built from its own request and dropped with
// it.
//
// Event:    {user_id, path, display_name, email}
// Response: {user_id, display_name, email, path} of this request
'use strict';

exports.handler = async (event, context) => ({
  user_id: event.user_id,
  display_name: event.display_name,
  email: event.email,
  path: event.path,
});
