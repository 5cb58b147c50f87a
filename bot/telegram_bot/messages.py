"""What the reader bot says, in French and in English: one catalogue per language, Telegram HTML."""

from __future__ import annotations

import string
from typing import Literal, get_args

from bot.content.telegram_html import escape_html

Lang = Literal["fr", "en"]
LANGUAGES: tuple[Lang, ...] = get_args(Lang)


class Html(str):
    """Text that is already Telegram HTML: `text()` inserts it as it is (anything else is
    escaped)."""

    __slots__ = ()


# Every entry is Telegram HTML: a literal & < > in the text itself is written &amp; &lt; &gt;.
# Placeholders are filled by `text()`, which escapes their values.
FR: dict[str, str] = {
    # setMyCommands (3 to 256 characters each)
    "cmd_start": "Bienvenue et présentation",
    "cmd_help": "Ce que le bot sait faire",
    "cmd_latest": "Les derniers articles",
    "cmd_search": "Chercher un article : /search mots",
    "cmd_topics": "Les rubriques du site",
    "cmd_subscribe": "Suivre une rubrique : /subscribe rubrique",
    "cmd_unsubscribe": "Ne plus suivre une rubrique",
    "cmd_digest": "Un résumé chaque matin : /digest daily ou off",
    "cmd_lang": "Langue : /lang fr ou /lang en",
    "cmd_stop": "Tout arrêter et m'oublier",
    "cmd_status": "Admin : état des flux et des canaux",
    "cmd_queue": "Admin : file d'attente [canal]",
    "cmd_pause": "Admin : mettre en pause [canal]",
    "cmd_resume": "Admin : reprendre [canal]",
    "cmd_retry": "Admin : renvoyer une publication",
    "cmd_skip": "Admin : abandonner une publication",
    "cmd_post": "Admin : publier l'article d'une URL",
    "cmd_preview": "Admin : aperçu de l'article d'une URL",
    # readers
    "welcome": "Bonjour {name} 👋\n\nJe suis le bot de <b>{site}</b>.\n\n{help}",
    "help": (
        "Voici ce que je sais faire :\n"
        "/latest — les derniers articles\n"
        "/search <i>mots</i> — chercher dans les articles\n"
        "/topics — les rubriques, pour vous abonner d'un geste\n"
        "/subscribe <i>rubrique</i> — recevoir ici les nouveaux articles d'une rubrique\n"
        "/unsubscribe <i>rubrique</i> — ne plus les recevoir\n"
        "/digest daily — un seul résumé chaque matin à {time}, au lieu d'un message par "
        "article (/digest off pour revenir)\n"
        "/lang en — English\n"
        "/stop — tout arrêter : j'efface ce que je sais de vous\n\n"
        "Vous pouvez aussi m'écrire simplement quelques mots : je les cherche pour vous."
    ),
    "admin_help": (
        "Administration : /status, /queue [canal], /pause [canal], /resume [canal], "
        "/retry <i>n°</i>, /skip <i>n°</i>, /post <i>url</i>, /preview <i>url</i>"
    ),
    "latest_title": "🗞 <b>Les derniers articles de {site}</b>",
    "latest_more_title": "🗞 <b>{site} — articles {first} à {last}</b>",
    "latest_empty": "Aucun article pour l'instant. Revenez un peu plus tard !",
    "latest_end": "C'est tout pour le moment.",
    "latest_usage": "Écrivez /latest, ou /latest 10 pour en voir dix (10 au plus).",
    "more_button": "Plus ▸",
    "search_usage": (
        "Que cherchez-vous ? Écrivez par exemple : /search sécurité Bamako\n"
        "Majuscules et accents n'ont pas d'importance."
    ),
    "search_title": "🔎 <b>« {query} »</b>",
    "search_none": "Aucun article ne contient « {query} ». Essayez avec d'autres mots.",
    "topics_title": "📚 <b>Les rubriques de {site}</b>",
    "topics_hint": (
        "Touchez une rubrique pour vous y abonner (➕) ou vous désabonner (✅). "
        "Les nouveaux articles arriveront ici."
    ),
    "topics_empty": (
        "Je ne connais encore aucune rubrique : revenez quand des articles seront parus."
    ),
    "subscribe_usage": (
        "Écrivez le nom d'une rubrique, par exemple : /subscribe Politique\n"
        "/topics les montre toutes."
    ),
    "unsubscribe_usage": "Écrivez le nom de la rubrique, par exemple : /unsubscribe Politique",
    "subscribed": ("✅ Vous suivez désormais « {topic} ». Ses nouveaux articles arriveront ici."),
    "already_subscribed": "Vous suivez déjà « {topic} ».",
    "unsubscribed": "Vous ne suivez plus « {topic} ».",
    "not_subscribed": "Vous ne suiviez pas « {topic} ».",
    "unknown_topic": "Je ne connais pas de rubrique « {topic} ».",
    "suggestions": "Vouliez-vous dire : {topics} ?",
    "see_topics": "/topics montre toutes les rubriques.",
    "too_many_topics": "Vous suivez déjà {count} rubriques, le maximum.",
    "your_topics": "Vos rubriques : {topics}",
    "no_subscriptions": "Vous ne suivez aucune rubrique pour l'instant.",
    "toast_subscribed": "Abonné à « {topic} »",
    "toast_unsubscribed": "Désabonné de « {topic} »",
    "button_expired": "Ce bouton n'est plus valable : renvoyez la commande.",
    "digest_usage": (
        "Écrivez /digest daily pour recevoir un seul résumé chaque matin à {time} "
        "(au lieu d'un message par article), ou /digest off pour l'arrêter. "
        "Actuellement : {state}."
    ),
    "digest_state_on": "résumé quotidien",
    "digest_state_off": "un message par article",
    "digest_on": (
        "☀️ C'est noté : chaque matin à {time}, un résumé des nouveaux articles de vos "
        "rubriques, au lieu d'un message par article."
    ),
    "digest_on_all": (
        "☀️ C'est noté : chaque matin à {time}, un résumé des nouveaux articles. Vous ne suivez "
        "aucune rubrique, il les contiendra toutes (/topics pour choisir)."
    ),
    "digest_off": (
        "C'est noté : plus de résumé, les articles de vos rubriques arriveront un par un."
    ),
    "digest_title": "☀️ <b>Votre résumé — {site}</b>\n{date}",
    "digest_footer": "/digest off pour ne plus recevoir ce résumé.",
    "lang_usage": "Écrivez /lang fr pour le français, ou /lang en for English.",
    "lang_set": "C'est noté : je vous parlerai en français.",
    "stop_done": (
        "C'est fait : j'ai effacé tout ce que je savais de vous (rubriques, résumé, langue). "
        "Vous ne recevrez plus rien. /start pour revenir quand vous voulez."
    ),
    "stop_nothing": (
        "Je ne garde rien sur vous : aucune rubrique, aucun résumé. Vous ne recevez rien de ma "
        "part."
    ),
    "broadcast_head": "🔔 <b>{topic}</b>",
    "read_button": "Lire l'article",
    "rate_limited": (
        "Doucement 🙂 Vous m'avez envoyé beaucoup de messages en peu de temps. "
        "Réessayez dans une minute."
    ),
    "error_apology": (
        "Désolé, quelque chose s'est mal passé de mon côté. Réessayez dans un instant."
    ),
    "not_admin": "Désolé, cette commande est réservée aux administrateurs du bot.",
    "unknown_command": "Je ne connais pas cette commande. /help pour la liste.",
    "too_long": "C'est un peu long pour moi : {max} caractères au plus.",
    # admins
    "status_title": "📊 <b>État de Relais — {site}</b>",
    "status_feeds": "<b>Flux</b>",
    "status_no_feeds": "Aucun flux configuré.",
    "status_feed_never": "⏳ {feed} : pas encore relevé",
    "status_feed_line": "{ok} {feed} : {result}\n   relevé {last} · prochain {next}",
    "status_feed_errors": "{count} échec(s) de suite",
    "status_channels": "<b>Canaux</b>",
    "status_no_channels": "Aucun canal configuré.",
    "status_channel_line": "{ok} {channel} ({type}) : {counts}",
    "status_next": "prochaine publication {when}",
    "status_paused": "⏸ en pause : {reason}",
    "status_readers": (
        "<b>Lecteurs</b>\n{readers} abonné(s), dont {digest} au résumé quotidien · "
        "messages : {counts}"
    ),
    "state_queued": "{n} en attente",
    "state_sending": "{n} en cours",
    "state_sent": "{n} envoyé(s)",
    "state_failed": "{n} en échec",
    "state_unknown": "{n} incertain(s)",
    "state_skipped": "{n} écarté(s)",
    "nothing": "rien",
    "queue_title": "📬 <b>File d'attente{channel}</b>",
    "queue_empty": "Rien en attente, rien d'incertain, aucun échec.",
    "queue_line": "#{id} {channel} · {state}{when} — {title}",
    "queue_hint": (
        "/retry <i>n°</i> renvoie une publication incertaine ou en échec ; "
        "/skip <i>n°</i> l'abandonne."
    ),
    "label_queued": "en attente",
    "label_sending": "en cours d'envoi",
    "label_unknown": "⚠️ incertaine",
    "label_failed": "❌ en échec",
    "paused": "⏸ En pause : {channels}.",
    "resumed": "▶️ Reprise : {channels}.",
    "already_paused": "Déjà en pause : {channels}.",
    "already_running": "Déjà en marche : {channels}.",
    "unknown_channel": "Je ne connais pas le canal « {channel} ». Canaux : {channels}.",
    "no_channels": "Aucun canal n'est configuré.",
    "retry_usage": "Écrivez /retry suivi du numéro de la publication (voir /queue).",
    "skip_usage": "Écrivez /skip suivi du numéro de la publication (voir /queue).",
    "delivery_not_found": "Aucune publication n° {id}.",
    "retried": "🔁 La publication n° {id} ({channel}) est remise en file : elle partira bientôt.",
    "retry_refused": (
        "La publication n° {id} est « {state} » : seule une publication incertaine ou en "
        "échec se renvoie."
    ),
    "skipped": "⏭ La publication n° {id} ({channel}) est abandonnée.",
    "skip_refused": "La publication n° {id} est déjà « {state} ».",
    "post_usage": "Écrivez /post suivi de l'adresse d'un article du site.",
    "preview_usage": "Écrivez /preview suivi de l'adresse d'un article du site.",
    "url_refused": "Je ne publie que des articles de {hosts}.",
    "url_invalid": "Ce n'est pas une adresse web (https://…).",
    "fetch_failed": "Je n'ai pas trouvé d'article à cette adresse.",
    "hooks_missing": "Cette commande n'est pas disponible dans ce mode.",
    "posted": "📤 « {title} » est en file pour : {channels}.",
    "post_nothing": "« {title} » est déjà connu : rien de nouveau à publier (voir /queue).",
    "preview_title": "👁 <b>Aperçu pour {channel}</b> ({type})",
    "preview_none": "Aucun canal ne publierait cet article (filtres des canaux).",
}

EN: dict[str, str] = {
    "cmd_start": "Welcome and introduction",
    "cmd_help": "What the bot can do",
    "cmd_latest": "The latest articles",
    "cmd_search": "Search the articles: /search words",
    "cmd_topics": "The site's topics",
    "cmd_subscribe": "Follow a topic: /subscribe topic",
    "cmd_unsubscribe": "Stop following a topic",
    "cmd_digest": "One summary every morning: /digest daily or off",
    "cmd_lang": "Language: /lang en or /lang fr",
    "cmd_stop": "Stop everything and forget me",
    "cmd_status": "Admin: feeds and channels",
    "cmd_queue": "Admin: the queue [channel]",
    "cmd_pause": "Admin: pause [channel]",
    "cmd_resume": "Admin: resume [channel]",
    "cmd_retry": "Admin: send a post again",
    "cmd_skip": "Admin: give up a post",
    "cmd_post": "Admin: post the article at a URL",
    "cmd_preview": "Admin: preview the article at a URL",
    "welcome": "Hello {name} 👋\n\nI am the bot of <b>{site}</b>.\n\n{help}",
    "help": (
        "Here is what I can do:\n"
        "/latest — the latest articles\n"
        "/search <i>words</i> — search the articles\n"
        "/topics — the topics, to subscribe in one tap\n"
        "/subscribe <i>topic</i> — get a topic's new articles here\n"
        "/unsubscribe <i>topic</i> — stop getting them\n"
        "/digest daily — a single summary every morning at {time} instead of one message per "
        "article (/digest off to go back)\n"
        "/lang fr — français\n"
        "/stop — stop everything: I erase what I know about you\n\n"
        "You can also just send me a few words: I will search for them."
    ),
    "admin_help": (
        "Admin: /status, /queue [channel], /pause [channel], /resume [channel], "
        "/retry <i>no.</i>, /skip <i>no.</i>, /post <i>url</i>, /preview <i>url</i>"
    ),
    "latest_title": "🗞 <b>The latest from {site}</b>",
    "latest_more_title": "🗞 <b>{site} — articles {first} to {last}</b>",
    "latest_empty": "No articles yet. Come back a little later!",
    "latest_end": "That's all for now.",
    "latest_usage": "Send /latest, or /latest 10 to see ten (10 at most).",
    "more_button": "More ▸",
    "search_usage": (
        "What are you looking for? For example: /search security Bamako\n"
        "Capitals and accents do not matter."
    ),
    "search_title": "🔎 <b>“{query}”</b>",
    "search_none": "No article contains “{query}”. Try other words.",
    "topics_title": "📚 <b>Topics on {site}</b>",
    "topics_hint": (
        "Tap a topic to subscribe (➕) or unsubscribe (✅). New articles will arrive here."
    ),
    "topics_empty": "I do not know any topic yet: come back once articles are out.",
    "subscribe_usage": (
        "Send a topic's name, for example: /subscribe Politique\n/topics shows them all."
    ),
    "unsubscribe_usage": "Send the topic's name, for example: /unsubscribe Politique",
    "subscribed": "✅ You now follow “{topic}”. Its new articles will arrive here.",
    "already_subscribed": "You already follow “{topic}”.",
    "unsubscribed": "You no longer follow “{topic}”.",
    "not_subscribed": "You were not following “{topic}”.",
    "unknown_topic": "I know no topic called “{topic}”.",
    "suggestions": "Did you mean: {topics}?",
    "see_topics": "/topics shows every topic.",
    "too_many_topics": "You already follow {count} topics, the maximum.",
    "your_topics": "Your topics: {topics}",
    "no_subscriptions": "You do not follow any topic yet.",
    "toast_subscribed": "Subscribed to “{topic}”",
    "toast_unsubscribed": "Unsubscribed from “{topic}”",
    "button_expired": "This button is no longer valid: send the command again.",
    "digest_usage": (
        "Send /digest daily to get a single summary every morning at {time} (instead of one "
        "message per article), or /digest off to stop it. Now: {state}."
    ),
    "digest_state_on": "daily summary",
    "digest_state_off": "one message per article",
    "digest_on": (
        "☀️ Done: every morning at {time}, a summary of the new articles in your topics, "
        "instead of one message per article."
    ),
    "digest_on_all": (
        "☀️ Done: every morning at {time}, a summary of the new articles. You follow no topic, "
        "so it will cover them all (/topics to choose)."
    ),
    "digest_off": "Done: no more summary, your topics' articles will arrive one by one.",
    "digest_title": "☀️ <b>Your summary — {site}</b>\n{date}",
    "digest_footer": "/digest off to stop this summary.",
    "lang_usage": "Send /lang en for English, or /lang fr pour le français.",
    "lang_set": "Done: I will speak English with you.",
    "stop_done": (
        "Done: I erased everything I knew about you (topics, summary, language). You will "
        "receive nothing more. /start to come back whenever you like."
    ),
    "stop_nothing": "I keep nothing about you: no topic, no summary. You receive nothing from me.",
    "broadcast_head": "🔔 <b>{topic}</b>",
    "read_button": "Read the article",
    "rate_limited": (
        "Easy 🙂 You sent me a lot of messages in a short time. Try again in a minute."
    ),
    "error_apology": "Sorry, something went wrong on my side. Please try again in a moment.",
    "not_admin": "Sorry, this command is for the bot's administrators only.",
    "unknown_command": "I do not know this command. /help for the list.",
    "too_long": "That is a bit long for me: {max} characters at most.",
    "status_title": "📊 <b>Relais status — {site}</b>",
    "status_feeds": "<b>Feeds</b>",
    "status_no_feeds": "No feed configured.",
    "status_feed_never": "⏳ {feed}: not polled yet",
    "status_feed_line": "{ok} {feed}: {result}\n   polled {last} · next {next}",
    "status_feed_errors": "{count} failure(s) in a row",
    "status_channels": "<b>Channels</b>",
    "status_no_channels": "No channel configured.",
    "status_channel_line": "{ok} {channel} ({type}): {counts}",
    "status_next": "next post {when}",
    "status_paused": "⏸ paused: {reason}",
    "status_readers": (
        "<b>Readers</b>\n{readers} subscriber(s), {digest} on the daily summary · "
        "messages: {counts}"
    ),
    "state_queued": "{n} queued",
    "state_sending": "{n} sending",
    "state_sent": "{n} sent",
    "state_failed": "{n} failed",
    "state_unknown": "{n} unknown",
    "state_skipped": "{n} skipped",
    "nothing": "nothing",
    "queue_title": "📬 <b>Queue{channel}</b>",
    "queue_empty": "Nothing queued, nothing uncertain, no failure.",
    "queue_line": "#{id} {channel} · {state}{when} — {title}",
    "queue_hint": (
        "/retry <i>no.</i> sends an uncertain or failed post again; /skip <i>no.</i> gives it up."
    ),
    "label_queued": "queued",
    "label_sending": "sending",
    "label_unknown": "⚠️ unknown",
    "label_failed": "❌ failed",
    "paused": "⏸ Paused: {channels}.",
    "resumed": "▶️ Resumed: {channels}.",
    "already_paused": "Already paused: {channels}.",
    "already_running": "Already running: {channels}.",
    "unknown_channel": "I know no channel “{channel}”. Channels: {channels}.",
    "no_channels": "No channel is configured.",
    "retry_usage": "Send /retry followed by the post's number (see /queue).",
    "skip_usage": "Send /skip followed by the post's number (see /queue).",
    "delivery_not_found": "No post no. {id}.",
    "retried": "🔁 Post no. {id} ({channel}) is queued again: it will go out soon.",
    "retry_refused": (
        "Post no. {id} is “{state}”: only an uncertain or failed post can be sent again."
    ),
    "skipped": "⏭ Post no. {id} ({channel}) is given up.",
    "skip_refused": "Post no. {id} is already “{state}”.",
    "post_usage": "Send /post followed by the address of an article of the site.",
    "preview_usage": "Send /preview followed by the address of an article of the site.",
    "url_refused": "I only post articles from {hosts}.",
    "url_invalid": "This is not a web address (https://…).",
    "fetch_failed": "I found no article at this address.",
    "hooks_missing": "This command is not available in this mode.",
    "posted": "📤 “{title}” is queued for: {channels}.",
    "post_nothing": "“{title}” is already known: nothing new to post (see /queue).",
    "preview_title": "👁 <b>Preview for {channel}</b> ({type})",
    "preview_none": "No channel would post this article (channel filters).",
}

MONTHS: dict[Lang, tuple[str, ...]] = {
    "fr": (
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

CATALOGUES: dict[Lang, dict[str, str]] = {"fr": FR, "en": EN}


def placeholders(template: str) -> set[str]:
    """The names of the `{placeholders}` in a catalogue entry."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def text(lang: Lang, key: str, **values: object) -> str:
    """The catalogue entry `key` in `lang`, its placeholders filled; values are escaped for
    Telegram HTML unless they are `Html`."""
    template = CATALOGUES.get(lang, FR)[key]
    filled = {
        name: value if isinstance(value, Html) else escape_html(str(value))
        for name, value in values.items()
    }
    return template.format(**filled)


def as_lang(code: str | None) -> Lang | None:
    """'fr', 'fr-FR', 'EN_us' → a language of the catalogues; anything else → None."""
    if not code:
        return None
    head = code.strip().lower().replace("_", "-").split("-", 1)[0]
    for lang in LANGUAGES:
        if head == lang:
            return lang
    return None


def pick_lang(chosen: str | None, telegram_code: str | None, site_language: str) -> Lang:
    """The reader's language: what they chose with /lang, else Telegram's, else the site's."""
    return as_lang(chosen) or as_lang(telegram_code) or as_lang(site_language) or "fr"
