"""Who is making the current request; set once at the top of the handler."""

current_user = None


def set_user(user_id, display_name):
    global current_user
    current_user = {"id": user_id, "name": display_name}


def get_user():
    return current_user
