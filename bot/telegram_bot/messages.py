"""What the reader bot says, in French and in English: one catalogue per language, Telegram HTML."""

from __future__ import annotations

import html
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
    "cmd_web": "Admin : un lien de connexion au tableau de bord",
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
        "/retry <i>n°</i>, /skip <i>n°</i>, /post <i>url</i>, /preview <i>url</i>, /web"
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
    "web_link": (
        "🔑 Votre lien de connexion au tableau de bord, valable 10 minutes et une seule fois :\n"
        "{link}\nNe le transférez à personne."
    ),
    "web_off": "Le tableau de bord n'est pas configuré (clé web: du fichier de configuration).",
    # publishers: what Telegram's and Facebook's refusals mean (plain text: see `plain`)
    "tg_error_token": (
        "Telegram refuse le jeton du bot (401/404) : vérifiez telegram.token (et "
        "telegram.api_url) ; tous les canaux Telegram attendent qu'il soit corrigé."
    ),
    "tg_error_flood": "Telegram limite le débit : nouvel essai dans {seconds} s.",
    "tg_error_moved": "La discussion Telegram a changé d'identifiant : {chat}.",
    "tg_error_forbidden": "Telegram interdit au bot de publier ici : {description}",
    "tg_error_too_long": "Telegram refuse la publication, trop longue : {description}",
    "tg_error_no_rights": "Le bot n'a pas le droit de publier ici : {description}",
    "tg_error_refused": "Telegram refuse la publication : {description}",
    "tg_error_not_sent": (
        "La requête n'est pas partie vers Telegram ({cause}) : nouvel essai plus tard."
    ),
    "tg_error_timeout": "Telegram n'a pas répondu à temps : le message a peut-être été publié.",
    "tg_error_conflict": "Conflit signalé par Telegram : {description}",
    "tg_error_aborted": (
        "La connexion à Telegram a été coupée après l'envoi ({cause}) : le message a "
        "peut-être été publié."
    ),
    "tg_error_unreachable": "Telegram injoignable : {description}",
    "tg_error_unreadable": "Réponse illisible de Telegram ({description}).",
    "tg_check_token_refused": (
        "Telegram refuse le jeton du bot : vérifiez TELEGRAM_BOT_TOKEN (telegram.token). "
        "Dans Telegram, ouvrez @BotFather › /mybots › votre bot › API Token et copiez le "
        "jeton complet (« 123456789:AA… »). Vérifiez aussi telegram.api_url."
    ),
    "tg_check_skipped_token": "non vérifiée : le jeton du bot est refusé par Telegram.",
    "tg_check_unreachable": (
        "Impossible de joindre Telegram ({reason}) : vérifiez la connexion Internet du serveur "
        "et telegram.api_url, puis réessayez."
    ),
    "tg_check_skipped_unreachable": "non vérifiée : Telegram n'a pas pu être joint.",
    "tg_check_bot_ok": "jeton valide : bot {bot} (id {id}).",
    "tg_check_add_admin": (
        "ouvrez la chaîne › Administrateurs › Ajouter un administrateur, choisissez {bot} et "
        "cochez « Publier des messages »."
    ),
    "tg_check_add_member": "ouvrez le groupe › Ajouter des membres et ajoutez {bot}.",
    "tg_check_migrated": (
        "Le groupe {chat} est devenu un supergroupe : remplacez `chat` par {new_chat} dans la "
        "configuration."
    ),
    "tg_check_not_found": (
        "La chaîne {chat} est introuvable : vérifiez `chat` dans la configuration (le @nom "
        "public de la chaîne, ou son identifiant numérique -100… pour une chaîne privée). Pour "
        "une chaîne privée, ajoutez d'abord {bot} comme administrateur."
    ),
    "tg_check_refused": "Telegram refuse l'accès à {chat} : {reason}.",
    "tg_check_failed": "Vérification impossible pour {chat} : {reason}.",
    "tg_check_not_member": "Le bot n'est pas membre de {chat} : {fix}",
    "tg_check_not_admin": "Le bot n'est pas administrateur de {chat} : {fix}",
    "tg_check_private": (
        "{chat} est une conversation privée avec {name} : le bot peut y écrire tant que la "
        "personne ne l'a pas bloqué."
    ),
    "tg_check_can_post": "{chat} (« {name} ») : le bot peut publier.",
    "tg_check_admin_cannot_post": (
        "Le bot est administrateur de {chat} mais sans le droit « Publier des messages » : "
        "ouvrez la chaîne › Administrateurs › {bot} et cochez « Publier des messages »."
    ),
    "tg_check_banned_channel": (
        "Le bot a été retiré et banni de {chat} : ouvrez la chaîne › Utilisateurs bannis, "
        "débannissez {bot}, puis {fix}"
    ),
    "tg_check_banned_group": (
        "Le bot a été banni de {chat} : retirez {bot} des utilisateurs bannis, puis {fix}"
    ),
    "tg_check_restricted": (
        "Le bot est restreint dans {chat} et ne peut pas écrire : ouvrez le groupe › Membres › "
        "{bot} et autorisez « Envoyer des messages » (ou nommez-le administrateur)."
    ),
    "tg_check_members_muted": (
        "Les membres de {chat} ne peuvent pas écrire : nommez {bot} administrateur du groupe."
    ),
    "fb_what_no_content_type": "réponse sans Content-Type",
    "fb_what_bad_json": "réponse JSON illisible",
    "fb_what_connect_timeout": "délai de connexion dépassé",
    "fb_what_timeout": "pas de réponse dans le délai",
    "fb_what_cannot_connect": "connexion impossible",
    "fb_what_connection_broken": "connexion coupée",
    "fb_what_bad_request": "requête impossible",
    "fb_what_broken_answer": "réponse interrompue",
    "fb_what_unexpected": "erreur inattendue",
    "fb_what_not_graph": "réponse qui n'est pas du JSON de l'API Graph",
    "fb_error_not_sent": "Facebook injoignable ({detail}) : nouvel essai plus tard.",
    "fb_error_lost_answer": (
        "Pas de réponse de Facebook après l'envoi ({detail}) : la publication a peut-être eu "
        "lieu ; Relais va vérifier sur la Page."
    ),
    "fb_error_no_answer": "Pas de réponse de Facebook ({detail}).",
    "fb_error_unreadable_accepted": (
        "Facebook a accepté la requête mais sa réponse est illisible ({detail}) : la "
        "publication existe peut-être ; Relais va vérifier sur la Page."
    ),
    "fb_error_invalid_answer": "Réponse invalide de Facebook ({detail}).",
    "fb_error_unexpected_answer": "Réponse inattendue de Facebook ({detail}).",
    "fb_error_token": (
        "Canal {channel} en pause : {problem}. Les publications attendent. Générez un nouveau "
        "jeton de Page (étapes : `relais check --online`), mettez-le dans la configuration puis "
        "reprenez le canal. ({detail})"
    ),
    "fb_error_permission": (
        "Canal {channel} en pause : le jeton n'a pas une autorisation nécessaire. Il faut un "
        "jeton de Page avec pages_manage_posts et pages_read_engagement, donné par une personne "
        "qui peut créer du contenu sur la Page. Générez un nouveau jeton (étapes : "
        "`relais check --online`). ({detail})"
    ),
    "fb_error_version": (
        "Canal {channel} en pause : Facebook n'accepte plus la version {version} de l'API "
        "Graph. Mettez à jour `facebook.version` dans la configuration. ({detail})"
    ),
    "fb_error_page_not_found": (
        "Canal {channel} en pause : la Page {page} est introuvable ou ce jeton n'y a pas accès. "
        "Vérifiez `page_id` et le jeton. ({detail})"
    ),
    "fb_error_throttled": (
        "Facebook limite le nombre d'appels : nouvel essai plus tard. ({detail})"
    ),
    "fb_error_temporary": "Erreur temporaire de Facebook. ({detail})",
    "fb_error_duplicate": (
        "Facebook refuse cette publication comme doublon d'une publication récente. ({detail})"
    ),
    "fb_error_policy": (
        "Facebook bloque cette publication (règles de la plateforme). Vérifiez le contenu et "
        "l'état de la Page dans la Meta Business Suite. ({detail})"
    ),
    "fb_error_link_not_fetched": (
        "Facebook n'a pas pu lire le lien de l'article (page inaccessible ou bloquée pour son "
        "robot). Vérifiez l'adresse, puis relancez avec /retry. ({detail})"
    ),
    "fb_error_invalid_parameter": "Facebook refuse un paramètre de la publication. ({detail})",
    "fb_error_refused": "Facebook a refusé la publication. ({detail})",
    "error_wrong_post": (
        "Canal {channel} : une publication {kind} ne peut pas partir sur {platform}."
    ),
    "fb_error_photo_without_url": "Publication photo sans adresse d'image.",
    "fb_error_no_post_id": (
        "Facebook a répondu sans identifiant de publication : la publication existe peut-être ; "
        "Relais va vérifier sur la Page."
    ),
    "fb_error_page_unreadable": (
        "{error} La Page n'a pas pu être relue : Relais vérifiera plus tard."
    ),
    "fb_token_102": "la session Facebook du jeton a expiré",
    "fb_token_458": "l'application Facebook a été retirée du compte qui a créé le jeton",
    "fb_token_459": (
        "Facebook demande à l'administrateur de se reconnecter sur facebook.com pour vérifier "
        "son compte (contrôle de sécurité)"
    ),
    "fb_token_460": (
        "le mot de passe du compte Facebook qui a créé le jeton a changé (ou Facebook a fermé la "
        "session par sécurité) : le jeton n'est plus valable"
    ),
    "fb_token_463": "le jeton a expiré",
    "fb_token_464": "le compte Facebook qui a créé le jeton n'est pas confirmé",
    "fb_token_467": "le jeton est invalide (révoqué, déconnecté ou mal copié)",
    "fb_token_492": "le compte qui a créé le jeton n'a plus de rôle d'administration sur la Page",
    "fb_token_invalid": "le jeton est invalide ou a expiré",
    "fb_token_steps": (
        "Pour obtenir un jeton de Page qui n'expire pas : "
        "1) dans l'explorateur de l'API Graph (https://developers.facebook.com/tools/explorer/), "
        "choisissez votre application, cochez les autorisations pages_manage_posts et "
        "pages_read_engagement, et générez un jeton d'utilisateur ; "
        "2) échangez-le contre un jeton longue durée : GET /oauth/access_token?"
        "grant_type=fb_exchange_token&amp;client_id=&lt;ID_APP&gt;&amp;client_secret=&lt;SECRET_APP&gt;"
        "&amp;fb_exchange_token=&lt;JETON_COURT&gt; ; "
        "3) avec ce jeton longue durée, appelez GET /me/accounts : le champ access_token de "
        "votre Page est un jeton de Page sans date d'expiration ; "
        "4) mettez-le dans la variable d'environnement du canal (par exemple FACEBOOK_PAGE_TOKEN) "
        "et lancez `relais check --online`."
    ),
    "fb_check_unreadable": "Réponse de debug_token illisible : vérification impossible.",
    "fb_check_refused": "Jeton refusé : {problem}.",
    "fb_check_refused_detail": "Jeton refusé : {problem}. ({detail})",
    "fb_check_unavailable": "Vérification impossible pour l'instant : {error}",
    "fb_check_user_token": (
        "C'est un jeton d'utilisateur, pas un jeton de Page : Relais publie au nom de la Page et "
        "a besoin du jeton de la Page elle-même."
    ),
    "fb_check_user_token_of": (
        "C'est un jeton d'utilisateur de « {name} », pas un jeton de Page : Relais publie au nom "
        "de la Page et a besoin du jeton de la Page elle-même."
    ),
    "fb_check_other_page": (
        "Ce jeton est celui de la Page {owner}, pas de la Page {page}. Vérifiez `page_id`, ou "
        "prenez le jeton de la bonne Page dans /me/accounts."
    ),
    "fb_check_named": "« {name} » ({id})",
    "fb_check_id_named": "{id} (« {name} »)",
    "fb_check_unknown_page": "inconnue",
    "fb_check_missing": "Autorisations manquantes : {permissions}.",
    "fb_check_expires": (
        "Ce jeton expire le {date} UTC (dans {days} jour(s)) : ensuite, plus rien ne sera publié."
    ),
    "fb_check_date": "%d/%m/%Y à %H:%M",
    "fb_check_ok_forever": "Jeton de Page valide pour « {name} » ({page}) ; il n'expire pas.",
    "fb_check_ok_for_now": (
        "Jeton de Page valide pour « {name} » ({page}) ; il est valable pour l'instant."
    ),
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
    "cmd_web": "Admin: a login link to the dashboard",
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
        "/retry <i>no.</i>, /skip <i>no.</i>, /post <i>url</i>, /preview <i>url</i>, /web"
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
    "web_link": (
        "🔑 Your dashboard login link, valid for 10 minutes and once:\n{link}\n"
        "Do not forward it to anyone."
    ),
    "web_off": "The dashboard is not configured (the web: key of the configuration file).",
    "tg_error_token": (
        "Telegram refused the bot token (401/404): check telegram.token (and telegram.api_url); "
        "every Telegram channel waits until it is fixed."
    ),
    "tg_error_flood": "Telegram flood control: retry in {seconds} s.",
    "tg_error_moved": "The Telegram chat moved to {chat}.",
    "tg_error_forbidden": "Telegram forbids the bot to post here: {description}",
    "tg_error_too_long": "Telegram refused the post as too long: {description}",
    "tg_error_no_rights": "The bot lacks the rights to post here: {description}",
    "tg_error_refused": "Telegram refused the post: {description}",
    "tg_error_not_sent": "The request to Telegram was not sent ({cause}): trying again later.",
    "tg_error_timeout": "Telegram did not answer in time: the message may have been posted.",
    "tg_error_conflict": "Telegram conflict: {description}",
    "tg_error_aborted": (
        "The connection to Telegram broke after the request was sent ({cause}): the message "
        "may have been posted."
    ),
    "tg_error_unreachable": "Telegram could not be reached: {description}",
    "tg_error_unreadable": "Unreadable answer from Telegram ({description}).",
    "tg_check_token_refused": (
        "Telegram refuses the bot token: check TELEGRAM_BOT_TOKEN (telegram.token). In Telegram, "
        "open @BotFather › /mybots › your bot › API Token and copy the whole token "
        "(“123456789:AA…”). Check telegram.api_url too."
    ),
    "tg_check_skipped_token": "not checked: Telegram refuses the bot token.",
    "tg_check_unreachable": (
        "Telegram cannot be reached ({reason}): check the server's Internet connection and "
        "telegram.api_url, then try again."
    ),
    "tg_check_skipped_unreachable": "not checked: Telegram could not be reached.",
    "tg_check_bot_ok": "valid token: bot {bot} (id {id}).",
    "tg_check_add_admin": (
        "open the channel › Administrators › Add Admin, choose {bot} and tick “Post Messages”."
    ),
    "tg_check_add_member": "open the group › Add Members and add {bot}.",
    "tg_check_migrated": (
        "The group {chat} became a supergroup: replace `chat` with {new_chat} in the configuration."
    ),
    "tg_check_not_found": (
        "The channel {chat} cannot be found: check `chat` in the configuration (the channel's "
        "public @name, or its numeric id -100… for a private channel). For a private channel, "
        "first add {bot} as an administrator."
    ),
    "tg_check_refused": "Telegram refuses access to {chat}: {reason}.",
    "tg_check_failed": "Cannot check {chat}: {reason}.",
    "tg_check_not_member": "The bot is not a member of {chat}: {fix}",
    "tg_check_not_admin": "The bot is not an administrator of {chat}: {fix}",
    "tg_check_private": (
        "{chat} is a private chat with {name}: the bot can write there as long as that person "
        "has not blocked it."
    ),
    "tg_check_can_post": "{chat} (“{name}”): the bot can post.",
    "tg_check_admin_cannot_post": (
        "The bot is an administrator of {chat} but without the “Post Messages” right: open the "
        "channel › Administrators › {bot} and tick “Post Messages”."
    ),
    "tg_check_banned_channel": (
        "The bot was removed and banned from {chat}: open the channel › Removed Users, unban "
        "{bot}, then {fix}"
    ),
    "tg_check_banned_group": (
        "The bot was banned from {chat}: remove {bot} from the banned users, then {fix}"
    ),
    "tg_check_restricted": (
        "The bot is restricted in {chat} and cannot write: open the group › Members › {bot} and "
        "allow “Send Messages” (or make it an administrator)."
    ),
    "tg_check_members_muted": (
        "The members of {chat} cannot write: make {bot} an administrator of the group."
    ),
    "fb_what_no_content_type": "answer without Content-Type",
    "fb_what_bad_json": "unreadable JSON answer",
    "fb_what_connect_timeout": "connection timed out",
    "fb_what_timeout": "no answer in time",
    "fb_what_cannot_connect": "cannot connect",
    "fb_what_connection_broken": "connection broken",
    "fb_what_bad_request": "the request cannot be sent",
    "fb_what_broken_answer": "answer cut short",
    "fb_what_unexpected": "unexpected error",
    "fb_what_not_graph": "an answer that is not Graph API JSON",
    "fb_error_not_sent": "Facebook cannot be reached ({detail}): trying again later.",
    "fb_error_lost_answer": (
        "No answer from Facebook after sending ({detail}): the post may exist; Relais will "
        "check the Page."
    ),
    "fb_error_no_answer": "No answer from Facebook ({detail}).",
    "fb_error_unreadable_accepted": (
        "Facebook took the request but its answer is unreadable ({detail}): the post may "
        "exist; Relais will check the Page."
    ),
    "fb_error_invalid_answer": "Invalid answer from Facebook ({detail}).",
    "fb_error_unexpected_answer": "Unexpected answer from Facebook ({detail}).",
    "fb_error_token": (
        "Channel {channel} paused: {problem}. The posts wait. Generate a new Page token (steps: "
        "`relais check --online`), put it in the configuration, then resume the channel. "
        "({detail})"
    ),
    "fb_error_permission": (
        "Channel {channel} paused: the token lacks a permission it needs. It takes a Page token "
        "with pages_manage_posts and pages_read_engagement, given by someone who can create "
        "content on the Page. Generate a new token (steps: `relais check --online`). ({detail})"
    ),
    "fb_error_version": (
        "Channel {channel} paused: Facebook no longer accepts version {version} of the Graph "
        "API. Update `facebook.version` in the configuration. ({detail})"
    ),
    "fb_error_page_not_found": (
        "Channel {channel} paused: the Page {page} cannot be found or this token has no access "
        "to it. Check `page_id` and the token. ({detail})"
    ),
    "fb_error_throttled": "Facebook limits the number of calls: trying again later. ({detail})",
    "fb_error_temporary": "Temporary Facebook error. ({detail})",
    "fb_error_duplicate": "Facebook refuses this post as a duplicate of a recent one. ({detail})",
    "fb_error_policy": (
        "Facebook blocks this post (platform rules). Check the content and the Page's status "
        "in Meta Business Suite. ({detail})"
    ),
    "fb_error_link_not_fetched": (
        "Facebook could not read the article's link (page unreachable or blocked for its "
        "crawler). Check the address, then send it again with /retry. ({detail})"
    ),
    "fb_error_invalid_parameter": "Facebook refuses a parameter of the post. ({detail})",
    "fb_error_refused": "Facebook refused the post. ({detail})",
    "error_wrong_post": "Channel {channel}: a {kind} cannot be posted to {platform}.",
    "fb_error_photo_without_url": "A photo post without an image address.",
    "fb_error_no_post_id": (
        "Facebook answered without a post id: the post may exist; Relais will check the Page."
    ),
    "fb_error_page_unreadable": "{error} The Page could not be read: Relais will check later.",
    "fb_token_102": "the token's Facebook session has expired",
    "fb_token_458": "the Facebook app was removed from the account that created the token",
    "fb_token_459": (
        "Facebook asks the administrator to log in again on facebook.com to verify the account "
        "(security check)"
    ),
    "fb_token_460": (
        "the password of the Facebook account that created the token changed (or Facebook "
        "closed the session for security): the token is no longer valid"
    ),
    "fb_token_463": "the token has expired",
    "fb_token_464": "the Facebook account that created the token is not confirmed",
    "fb_token_467": "the token is invalid (revoked, logged out or miscopied)",
    "fb_token_492": "the account that created the token no longer has a role on the Page",
    "fb_token_invalid": "the token is invalid or has expired",
    "fb_token_steps": (
        "To get a Page token that does not expire: "
        "1) in the Graph API Explorer (https://developers.facebook.com/tools/explorer/), choose "
        "your app, tick the pages_manage_posts and pages_read_engagement permissions, and "
        "generate a user token; "
        "2) exchange it for a long-lived token: GET /oauth/access_token?"
        "grant_type=fb_exchange_token&amp;client_id=&lt;APP_ID&gt;&amp;client_secret=&lt;APP_SECRET&gt;"
        "&amp;fb_exchange_token=&lt;SHORT_TOKEN&gt;; "
        "3) with that long-lived token, call GET /me/accounts: your Page's access_token field "
        "is a Page token with no expiry date; "
        "4) put it in the channel's environment variable (for example FACEBOOK_PAGE_TOKEN) and "
        "run `relais check --online`."
    ),
    "fb_check_unreadable": "Unreadable debug_token answer: cannot check.",
    "fb_check_refused": "Token refused: {problem}.",
    "fb_check_refused_detail": "Token refused: {problem}. ({detail})",
    "fb_check_unavailable": "Cannot check for now: {error}",
    "fb_check_user_token": (
        "This is a user token, not a Page token: Relais posts as the Page and needs the Page's "
        "own token."
    ),
    "fb_check_user_token_of": (
        "This is a user token of “{name}”, not a Page token: Relais posts as the Page and needs "
        "the Page's own token."
    ),
    "fb_check_other_page": (
        "This token is the Page {owner}'s, not the Page {page}'s. Check `page_id`, or take the "
        "right Page's token from /me/accounts."
    ),
    "fb_check_named": "“{name}” ({id})",
    "fb_check_id_named": "{id} (“{name}”)",
    "fb_check_unknown_page": "unknown",
    "fb_check_missing": "Missing permissions: {permissions}.",
    "fb_check_expires": (
        "This token expires on {date} UTC (in {days} day(s)): after that, nothing will be posted."
    ),
    "fb_check_date": "%Y-%m-%d at %H:%M",
    "fb_check_ok_forever": "Valid Page token for “{name}” ({page}); it does not expire.",
    "fb_check_ok_for_now": "Valid Page token for “{name}” ({page}); it is valid for now.",
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


def plain(lang: Lang, key: str, **values: object) -> str:
    """The catalogue entry `key` in `lang` as plain text (an error, a log, the terminal): the
    template's entities are decoded and the values inserted as they are."""
    template = html.unescape(CATALOGUES.get(lang, FR)[key])
    return template.format(**values)


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
