import six


def handler(event):
    return {'result': six.ensure_str(event.get('name', 'world'))}
